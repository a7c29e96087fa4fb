// The quotes HTML report: one floating tooltip for highlights and evidence (hover or keyboard focus),
// and jumps between a highlight and its row in the side table. The page works without it.
(() => {
  "use strict";
  const tip = document.getElementById("tip");
  let current = null;

  const owner = (node) => (node instanceof Element ? node.closest("[data-tip]") : null);

  function pieces(el) {
    return el.closest("article").querySelectorAll(`[data-tip="${el.dataset.tip}"]`);
  }

  function place(el) {
    const box = el.getClientRects()[0] || el.getBoundingClientRect();
    const width = tip.offsetWidth;
    const height = tip.offsetHeight;
    const viewWidth = document.documentElement.clientWidth;
    const left = Math.max(8, Math.min(box.left, viewWidth - width - 8));
    let top = box.bottom + 8;
    if (top + height > window.innerHeight - 8 && box.top - height - 8 > 8) top = box.top - height - 8;
    tip.style.left = `${left + window.scrollX}px`;
    tip.style.top = `${top + window.scrollY}px`;
  }

  function hide() {
    if (current) for (const piece of pieces(current)) piece.classList.remove("hot");
    current = null;
    tip.hidden = true;
  }

  function show(el) {
    const desc = document.getElementById(el.dataset.tip);
    if (!desc) return;
    hide();
    current = el;
    tip.replaceChildren(...Array.from(desc.childNodes, (node) => node.cloneNode(true)));
    tip.hidden = false;
    place(el);
    for (const piece of pieces(el)) piece.classList.add("hot");
  }

  function flash(el) {
    el.classList.remove("flash");
    void el.offsetWidth;
    el.classList.add("flash");
  }

  function jump(id) {
    const target = document.getElementById(id);
    if (!target) return;
    history.pushState(null, "", `#${id}`);
    target.scrollIntoView({ block: target.offsetHeight > window.innerHeight / 3 ? "start" : "center" });
    target.focus({ preventScroll: true });
    flash(target);
  }

  document.addEventListener("mouseover", (event) => {
    const el = owner(event.target);
    if (el && el !== current) show(el);
    else if (!el && current && document.activeElement !== current) hide();
  });
  document.addEventListener("focusin", (event) => {
    const el = owner(event.target);
    if (el) show(el);
    else hide();
  });
  document.addEventListener("focusout", (event) => {
    if (!owner(event.relatedTarget)) hide();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hide();
    const el = owner(event.target);
    if (event.key === "Enter" && el && el.dataset.go) {
      event.preventDefault();
      jump(el.dataset.go);
    }
  });
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
    if (link) {
      event.preventDefault();
      jump(link.getAttribute("href").slice(1));
      return;
    }
    const el = owner(event.target);
    if (el && el.dataset.go && !String(window.getSelection())) jump(el.dataset.go);
  });
  window.addEventListener("resize", () => current && place(current));
})();
