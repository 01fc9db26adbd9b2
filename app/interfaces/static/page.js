// Runs when the document viewer mounts (gr.HTML js_on_load: `element`, `trigger`, `watch`).
// One capturing listener on the page turns clicks on source links and [n] markers
// (href "#sb-open:START:END:SOURCE") into the viewer's click event, and answers copy buttons;
// when the viewer shows a document, it scrolls the highlighted quote into view.
window.sbOpen = (data) => trigger("click", data);
const sbCopyText = (button) => {
  const kind = [...button.classList].find((c) => c.startsWith("sb-copy-"));
  const scope = button.closest(".message-content, #sb-viewer, li") || document;
  const source = {
    "sb-copy-quote": () => button.closest("li").querySelector("blockquote"),
    "sb-copy-answer": () => button.closest(".message-content").querySelector(".sb-answer"),
    "sb-copy-mark": () => scope.querySelector("mark"),
  }[kind];
  const node = source ? source() : null;
  return node ? node.innerText : "";
};
if (!window.sbListening) {
  window.sbListening = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#sb-open:']");
    if (link) {
      event.preventDefault();
      event.stopPropagation();
      const [, start, end, ...rest] = link.getAttribute("href").split(":");
      window.sbOpen({ source: decodeURIComponent(rest.join(":")), start: +start, end: +end });
      return;
    }
    const copy = event.target.closest("button.sb-copy");
    if (copy) {
      event.preventDefault();
      event.stopPropagation();
      const label = copy.textContent;
      const shown = () => {
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = label; }, 1200);
      };
      if (navigator.clipboard) navigator.clipboard.writeText(sbCopyText(copy)).then(shown, () => {});
    }
  }, true);
}
watch("value", () => {
  const mark = element.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "center", behavior: "instant" });
});
