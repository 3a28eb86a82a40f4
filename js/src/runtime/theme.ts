/**
 * Light/dark detection that follows the host: JupyterLab marks `<body data-jp-theme-light>`,
 * VS Code puts `vscode-dark` / `vscode-light` / `vscode-high-contrast` classes on `<body>`, and
 * anything else (Notebook 7 uses JupyterLab's marker, standalone pages nothing) falls back to the
 * OS `prefers-color-scheme`. The `theme` traitlet ("light"/"dark") overrides all of them.
 */

const DARK_QUERY = "(prefers-color-scheme: dark)";

/** The parts of an element's document that detection reads (a fake in unit tests). */
interface ThemeDocument {
  body: Pick<HTMLElement, "getAttribute" | "classList"> | null;
  defaultView: Pick<Window, "matchMedia"> | null;
}

function documentOf(node: HTMLElement): ThemeDocument {
  return (node.ownerDocument ?? document) as unknown as ThemeDocument;
}

/** What the host page says: true = dark, false = light, null = the page says nothing. */
function hostSaysDark(doc: ThemeDocument): boolean | null {
  const body = doc.body;
  if (!body) return null;
  const jupyterLight = body.getAttribute("data-jp-theme-light");
  if (jupyterLight === "true") return false;
  if (jupyterLight === "false") return true;
  const classes = body.classList;
  if (classes.contains("vscode-light") || classes.contains("vscode-high-contrast-light")) return false;
  if (classes.contains("vscode-dark") || classes.contains("vscode-high-contrast")) return true;
  return null;
}

function osPrefersDark(doc: ThemeDocument): boolean {
  const view = doc.defaultView;
  if (!view || typeof view.matchMedia !== "function") return false;
  return view.matchMedia(DARK_QUERY).matches;
}

/** True when the page around `el` uses a dark theme (JupyterLab, VS Code, else the OS setting). */
export function detectDark(el: HTMLElement): boolean {
  const doc = documentOf(el);
  return hostSaysDark(doc) ?? osPrefersDark(doc);
}

/** Applies the `theme` traitlet: "light" and "dark" force, anything else follows the host. */
export function resolveDark(themeSetting: unknown, el: HTMLElement): boolean {
  if (themeSetting === "dark") return true;
  if (themeSetting === "light") return false;
  return detectDark(el);
}

/**
 * Calls `cb(dark)` whenever the host theme flips (JupyterLab/VS Code body attributes or the OS
 * setting). Returns the unsubscribe function.
 */
export function watchTheme(el: HTMLElement, cb: (dark: boolean) => void): () => void {
  const doc = documentOf(el);
  let last = detectDark(el);
  const check = (): void => {
    const now = detectDark(el);
    if (now !== last) {
      last = now;
      cb(now);
    }
  };
  const stops: (() => void)[] = [];
  const body = doc.body as unknown as Node | null;
  if (body && typeof MutationObserver !== "undefined") {
    const observer = new MutationObserver(check);
    observer.observe(body, { attributes: true, attributeFilter: ["data-jp-theme-light", "class"] });
    stops.push(() => observer.disconnect());
  }
  const view = doc.defaultView;
  if (view && typeof view.matchMedia === "function") {
    const query = view.matchMedia(DARK_QUERY);
    if (typeof query.addEventListener === "function") {
      query.addEventListener("change", check);
      stops.push(() => query.removeEventListener("change", check));
    }
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}
