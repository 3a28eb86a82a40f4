import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { debounce } from "../src/runtime/debounce.js";
import { clear, el, setText } from "../src/runtime/dom.js";
import { detectDark, resolveDark, watchTheme } from "../src/runtime/theme.js";

describe("debounce", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("runs once with the last arguments after the quiet period", () => {
    const calls: number[] = [];
    const d = debounce((n: number) => calls.push(n), 250);
    d(1);
    mock.timers.tick(100);
    d(2);
    mock.timers.tick(249);
    assert.deepEqual(calls, []);
    mock.timers.tick(1);
    assert.deepEqual(calls, [2]);
    mock.timers.tick(1000);
    assert.deepEqual(calls, [2]);
  });

  it("flush runs the pending call now, cancel drops it", () => {
    const calls: string[] = [];
    const d = debounce((s: string) => calls.push(s), 250);
    d("a");
    d.flush();
    assert.deepEqual(calls, ["a"]);
    d.flush();
    assert.deepEqual(calls, ["a"], "flush without a pending call does nothing");
    d("b");
    d.cancel();
    mock.timers.tick(1000);
    assert.deepEqual(calls, ["a"]);
  });
});

/** A minimal document: body attributes/classes and a matchMedia answer. */
function fakeDocument(opts: { attrs?: Record<string, string>; classes?: string[]; osDark?: boolean }) {
  const attrs = new Map(Object.entries(opts.attrs ?? {}));
  const classes = new Set(opts.classes ?? []);
  const media = {
    matches: opts.osDark ?? false,
    addEventListener: (_type: string, _cb: () => void): void => undefined,
    removeEventListener: (_type: string, _cb: () => void): void => undefined,
  };
  const doc = {
    body: {
      getAttribute: (name: string) => attrs.get(name) ?? null,
      classList: { contains: (c: string) => classes.has(c) },
    },
    defaultView: { matchMedia: (_q: string) => media },
  };
  const element = { ownerDocument: doc } as unknown as HTMLElement;
  return { element, attrs, classes, media };
}

describe("theme detection", () => {
  it("reads JupyterLab's data-jp-theme-light before anything else", () => {
    assert.equal(detectDark(fakeDocument({ attrs: { "data-jp-theme-light": "false" } }).element), true);
    assert.equal(detectDark(fakeDocument({ attrs: { "data-jp-theme-light": "true" }, osDark: true }).element), false);
  });

  it("reads VS Code's body classes", () => {
    assert.equal(detectDark(fakeDocument({ classes: ["vscode-dark"] }).element), true);
    assert.equal(detectDark(fakeDocument({ classes: ["vscode-high-contrast"] }).element), true);
    assert.equal(detectDark(fakeDocument({ classes: ["vscode-light"], osDark: true }).element), false);
    assert.equal(detectDark(fakeDocument({ classes: ["vscode-high-contrast", "vscode-high-contrast-light"] }).element), false);
  });

  it("falls back to prefers-color-scheme", () => {
    assert.equal(detectDark(fakeDocument({ osDark: true }).element), true);
    assert.equal(detectDark(fakeDocument({ osDark: false }).element), false);
  });

  it("lets the theme traitlet force light or dark", () => {
    const dark = fakeDocument({ classes: ["vscode-dark"] }).element;
    assert.equal(resolveDark("light", dark), false);
    assert.equal(resolveDark("dark", fakeDocument({}).element), true);
    assert.equal(resolveDark("auto", dark), true);
    assert.equal(resolveDark(undefined, dark), true);
  });

  it("watchTheme reports OS changes through matchMedia and unsubscribes", () => {
    const listeners: (() => void)[] = [];
    const fake = fakeDocument({});
    fake.media.addEventListener = (_type: string, cb: () => void) => void listeners.push(cb);
    fake.media.removeEventListener = (_type: string, cb: () => void) => void listeners.splice(listeners.indexOf(cb), 1);
    const seen: boolean[] = [];
    const stop = watchTheme(fake.element, (dark) => seen.push(dark));
    fake.media.matches = true;
    for (const cb of listeners) cb();
    for (const cb of listeners) cb(); // unchanged: not reported twice
    assert.deepEqual(seen, [true]);
    stop();
    assert.equal(listeners.length, 0);
  });
});

/** A minimal document whose elements throw if anything tries to parse HTML into them. */
function fakeDom() {
  class FakeElement {
    tagName: string;
    attributes = new Map<string, string>();
    children: FakeElement[] = [];
    text = "";
    constructor(tag: string) {
      this.tagName = tag;
    }
    setAttribute(name: string, value: string) {
      this.attributes.set(name, value);
    }
    get textContent() {
      return this.text;
    }
    set textContent(value: string) {
      this.children = [];
      this.text = value;
    }
    set innerHTML(_value: string) {
      throw new Error("innerHTML must never be used");
    }
    insertAdjacentHTML() {
      throw new Error("insertAdjacentHTML must never be used");
    }
    get firstChild() {
      return this.children[0] ?? null;
    }
    removeChild(child: FakeElement) {
      this.children.splice(this.children.indexOf(child), 1);
    }
  }
  const doc = { createElement: (tag: string) => new FakeElement(tag) };
  return { doc: doc as unknown as Document, FakeElement };
}

describe("text-only DOM helpers", () => {
  const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>&amp;"\'';

  it("el puts any text, hostile or not, into textContent verbatim", () => {
    const { doc } = fakeDom();
    const node = el("div", { "data-hg-role": "tooltip", title: hostile }, hostile, doc) as unknown as {
      textContent: string;
      attributes: Map<string, string>;
    };
    assert.equal(node.textContent, hostile);
    assert.equal(node.attributes.get("title"), hostile);
    assert.equal(node.attributes.get("data-hg-role"), "tooltip");
  });

  it("el accepts empty and unicode text", () => {
    const { doc } = fakeDom();
    assert.equal((el("span", {}, "", doc) as unknown as { textContent: string }).textContent, "");
    assert.equal((el("span", undefined, "\u202e\u0000ünïcode", doc) as unknown as { textContent: string }).textContent, "\u202e\u0000ünïcode");
  });

  it("el refuses event-handler attribute names (code bugs, never data)", () => {
    const { doc } = fakeDom();
    assert.throws(() => el("div", { onclick: "x" }, undefined, doc), /event-handler attribute "onclick"/);
    assert.throws(() => el("div", { ONLOAD: "x" }, undefined, doc), /event-handler attribute/);
  });

  it("setText and clear never touch HTML", () => {
    const { doc } = fakeDom();
    const node = el("div", {}, "a", doc);
    setText(node, hostile);
    assert.equal(node.textContent, hostile);
    const parent = el("div", {}, undefined, doc) as unknown as { children: unknown[] };
    parent.children.push(el("span", {}, "x", doc), el("span", {}, "y", doc));
    clear(parent as unknown as Element);
    assert.equal(parent.children.length, 0);
  });
});
