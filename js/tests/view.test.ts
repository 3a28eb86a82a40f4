/** Unit tests of ViewLifecycle (runtime/view.ts) and the plot panel frame (runtime/plot.ts), without a DOM. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { panelFrame, PLOT_LIGHT } from "../src/runtime/plot.js";
import { ViewLifecycle } from "../src/runtime/view.js";
import { FakeModel, tick } from "./fakes.js";

/** A container whose document has no body and a window with hand-driven animation frames. */
function fakeHost(): { host: HTMLElement; frames: Map<number, () => void>; runFrames(): void } {
  const frames = new Map<number, () => void>();
  let next = 1;
  const defaultView = {
    requestAnimationFrame: (cb: () => void): number => {
      frames.set(next, cb);
      return next++;
    },
    cancelAnimationFrame: (id: number): void => {
      frames.delete(id);
    },
  };
  const host = { ownerDocument: { body: null, defaultView } } as unknown as HTMLElement;
  const runFrames = (): void => {
    const due = [...frames.values()];
    frames.clear();
    for (const cb of due) cb();
  };
  return { host, frames, runFrames };
}

describe("ViewLifecycle", () => {
  it("removes model listeners, aborts the signal and runs cleanups once, in order", () => {
    const model = new FakeModel({});
    const { host } = fakeHost();
    const life = new ViewLifecycle(model, host);
    const heard: string[] = [];
    life.listen({ "change:spec": () => heard.push("spec"), "msg:custom": () => heard.push("msg") });
    const stops: string[] = [];
    life.onDispose(() => stops.push("first"));
    life.onDispose(() => stops.push("second"));
    model.set("spec", {});
    assert.deepEqual(heard, ["spec"]);
    assert.equal(model.listenerCount("change:spec"), 1);
    assert.equal(life.signal.aborted, false);
    life.dispose();
    life.dispose();
    assert.equal(life.disposed, true);
    assert.equal(life.signal.aborted, true);
    assert.deepEqual(stops, ["first", "second"]);
    assert.equal(model.listenerCount("change:spec"), 0);
    assert.equal(model.listenerCount("msg:custom"), 0);
    model.set("spec", {});
    assert.deepEqual(heard, ["spec"]);
    life.onDispose(() => stops.push("late"));
    assert.deepEqual(stops, ["first", "second", "late"], "a cleanup registered after dispose runs at once");
  });

  it("follows the theme traitlet: apply only when dark or light changes", () => {
    const model = new FakeModel({ theme: "auto" });
    const { host } = fakeHost();
    const life = new ViewLifecycle(model, host);
    const applied: boolean[] = [];
    assert.equal(life.followTheme((dark) => applied.push(dark)), false, "no host theme, no OS preference: light");
    model.set("theme", "light");
    assert.deepEqual(applied, [], "still light");
    model.set("theme", "dark");
    model.set("theme", "dark");
    assert.deepEqual(applied, [true]);
    model.set("theme", "auto");
    assert.deepEqual(applied, [true, false]);
    life.dispose();
    model.set("theme", "dark");
    assert.deepEqual(applied, [true, false]);
    assert.equal(model.listenerCount("change:theme"), 0);
  });

  it("coalesces repaints into one per frame and none after dispose", () => {
    const model = new FakeModel({});
    const { host, frames, runFrames } = fakeHost();
    const life = new ViewLifecycle(model, host);
    let paints = 0;
    const schedule = life.frames(() => (paints += 1));
    schedule();
    schedule();
    schedule();
    assert.equal(frames.size, 1);
    runFrames();
    assert.equal(paints, 1);
    schedule();
    runFrames();
    assert.equal(paints, 2);
    schedule();
    life.dispose();
    assert.equal(frames.size, 0, "the pending frame is cancelled");
    schedule();
    runFrames();
    assert.equal(paints, 2);
  });

  it("hands loaded results to ready unless the view is gone; failures go to fail", async () => {
    const model = new FakeModel({});
    const { host } = fakeHost();
    const life = new ViewLifecycle(model, host);
    const seen: string[] = [];
    await life.load(Promise.resolve("data"), (v) => seen.push(`ready ${v}`), () => seen.push("fail"));
    await life.load(Promise.reject(new Error("no wasm")), () => seen.push("ready"), (e) => seen.push(`fail ${(e as Error).message}`));
    await life.load(Promise.resolve(1), () => {
      throw new Error("bad spec");
    }, (e) => seen.push(`fail ${(e as Error).message}`));
    let resolve: (v: string) => void = () => {};
    const late = life.load(new Promise<string>((r) => (resolve = r)), () => seen.push("late ready"), () => seen.push("late fail"));
    life.dispose();
    resolve("too late");
    await late;
    await tick();
    assert.deepEqual(seen, ["ready data", "fail no wasm", "fail bad spec"]);
  });

  it("counts the first paint once in the model's rendered traitlet", () => {
    const model = new FakeModel({ rendered: 2 });
    const { host } = fakeHost();
    const life = new ViewLifecycle(model, host);
    life.firstPaint();
    life.firstPaint();
    assert.equal(model.get("rendered"), 3);
    assert.equal(model.saves, 1);
  });
});

describe("panelFrame", () => {
  it("draws the border, the value range left of the panel and the name inside it, as text", () => {
    const calls: string[] = [];
    const ctx = new Proxy(
      {},
      {
        get: (_target, name: string) => (...args: unknown[]) => calls.push(`${name}(${args.join(",")})`),
        set: (_target, name: string, value: unknown) => {
          calls.push(`${name}=${String(value)}`);
          return true;
        },
      },
    ) as unknown as CanvasRenderingContext2D;
    panelFrame(ctx, PLOT_LIGHT, { left: 60, top: 10, width: 300, height: 100 }, { high: "5 min", low: "0 s", name: "<b>gap</b>" });
    assert.ok(calls.includes("strokeRect(60.5,10.5,300,100)"), calls.join(" "));
    assert.ok(calls.includes("fillText(5 min,56,10)"));
    assert.ok(calls.includes("fillText(0 s,56,110)"));
    assert.ok(calls.includes("fillText(<b>gap</b>,66,12)"));
    assert.equal(calls.at(-2), `fillStyle=${PLOT_LIGHT.fg}`);
  });
});
