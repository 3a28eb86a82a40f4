/**
 * Errors shown by widgets: the message of anything thrown, and the one way a widget shows a
 * failure (as text in its status line, never as HTML) and reports it to Python's `error` traitlet.
 */

import { setText } from "./dom.js";
import type { AnyModel } from "./types.js";

/** The text of anything thrown (an Error's message, else its string form). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Shows `error` in the widget: `status` holds its message as text (role `error`), `root` is marked
 * `data-hg-state="error"`, and the model's `error` traitlet gets the message (saved only when it
 * changed). Returns the message.
 */
export function showWidgetError(model: AnyModel, root: HTMLElement, status: HTMLElement, error: unknown): string {
  const message = messageOf(error);
  root.setAttribute("data-hg-state", "error");
  status.style.display = "block";
  status.setAttribute("data-hg-role", "error");
  setText(status, message);
  if (model.get("error") !== message) {
    model.set("error", message);
    model.save_changes();
  }
  return message;
}
