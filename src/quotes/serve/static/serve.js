// quotes serve: a form that is working says so, a job's page follows its job, a followed statement is
// brought into view. Every page works without this script (a job's page then reloads itself).
(() => {
  "use strict";

  function busy(form, on) {
    form.classList.toggle("busy", on);
    form.setAttribute("aria-busy", String(on));
    for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = on;
    const note = form.querySelector(".busy-note");
    if (note) note.textContent = on ? "Working… with a model this takes a few seconds." : "";
  }

  for (const form of document.querySelectorAll("form.work")) {
    form.addEventListener("submit", () => busy(form, true));
  }
  // Back to a page whose form was sent: it is no longer working.
  window.addEventListener("pageshow", () => {
    for (const form of document.querySelectorAll("form.work")) busy(form, false);
  });

  const job = document.getElementById("job");
  if (job && job.dataset.job) {
    const stage = document.getElementById("stage");
    const seconds = document.getElementById("seconds");
    const url = `/jobs/${encodeURIComponent(job.dataset.job)}/state`;
    const poll = async () => {
      try {
        const answer = await fetch(url, { headers: { accept: "application/json" } });
        if (answer.ok) {
          const state = await answer.json();
          if (state.done) {
            window.location.reload();
            return;
          }
          stage.textContent = state.stage;
          seconds.textContent = String(Math.round(state.seconds));
        }
      } catch (error) {
        stage.textContent = "the server does not answer; retrying";
      }
      window.setTimeout(poll, 700);
    };
    window.setTimeout(poll, 400);
  }

  const focus = document.getElementById("focus");
  if (focus && focus.dataset.quote) {
    const mark = document.querySelector(`mark[data-quote-id="${CSS.escape(focus.dataset.quote)}"][id]`);
    if (mark) {
      mark.scrollIntoView({ block: "center" });
      mark.focus({ preventScroll: true });
      mark.classList.add("flash", "followed");
    }
  }
})();
