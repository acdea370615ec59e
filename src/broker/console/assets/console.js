// kubeiam console: the little the pages do in the browser. Every page works without it; with it,
// commands and tokens get a Copy button, and deleting, rotating and revoking ask first.
"use strict";

function announce(text) {
  const status = document.getElementById("console-status");
  if (status !== null) status.textContent = text;
}

function copyText(text) {
  if (navigator.clipboard !== undefined && window.isSecureContext) return navigator.clipboard.writeText(text);
  return Promise.reject(new Error("no clipboard"));
}

function selectContents(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  if (selection === null) return;
  selection.removeAllRanges();
  selection.addRange(range);
}

function setUpCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.getAttribute("data-copy") || "");
    if (source === null) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      copyText(source.textContent || "").then(
        () => announce("Copied to the clipboard."),
        () => {
          selectContents(source);
          announce("Selected: press Ctrl+C (or Cmd+C) to copy.");
        },
      );
    });
  }
}

function setUpConfirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.getAttribute("data-confirm") || "Are you sure?")) event.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCopyButtons();
  setUpConfirmations();
});
