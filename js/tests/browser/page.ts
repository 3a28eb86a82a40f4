/** Browser side of timeline.test.ts: the widget bundle with the fake chart, driven through the standalone host. */
import { mountStandalone, registerStandaloneWidget } from "../../src/runtime/host.js";
import { attachModel } from "../../src/runtime/protocol.js";
import type { AnyModel } from "../../src/runtime/types.js";
import { registerGlue } from "../../src/runtime/wasm.js";
import { renderTimeline } from "../../src/widgets/timeline.js";
import { FakeTimelineChart, memory, stats } from "./fake_chart.js";

registerGlue({ default: async () => ({ memory }), TimelineChart: FakeTimelineChart });
registerStandaloneWidget({
  initialize: ({ model }: { model: AnyModel }) => attachModel(model),
  render: ({ model, el }: { model: AnyModel; el: HTMLElement }) => renderTimeline(model, el),
});

(window as unknown as Record<string, unknown>).__hgTest = { mountStandalone, stats };
