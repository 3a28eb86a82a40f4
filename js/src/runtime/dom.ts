/**
 * Text-only DOM helpers. Log fields are attacker-controlled, so every string that reaches the DOM
 * goes through `textContent` (or an attribute value): nothing here ever parses HTML. Any text is
 * accepted, hostile or not; it simply shows as text.
 */

/** Attribute names that would run script; attributes come from our code, never from data. */
const SCRIPT_ATTRIBUTE = /^on/i;

function checkedAttributeName(name: string): string {
  if (SCRIPT_ATTRIBUTE.test(name)) {
    throw new Error(`huntglass: refusing to set event-handler attribute "${name}"; use addEventListener`);
  }
  return name;
}

/**
 * Creates an element with attributes (set as attribute values) and optional text (set as
 * `textContent`). The element is created in `doc` (the document of the widget's container).
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string>,
  text?: string,
  doc: Document = document,
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      node.setAttribute(checkedAttributeName(name), value);
    }
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Replaces the text of `node` (never HTML). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Removes every child of `node`. */
export function clear(node: Element): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Sets inline style properties from a plain object (values are CSS text, never markup). */
export function style(node: HTMLElement, props: Record<string, string>): void {
  for (const [name, value] of Object.entries(props)) node.style.setProperty(name, value);
}
