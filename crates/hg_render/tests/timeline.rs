//! Timeline chart behaviour: spec errors, lanes, rendering, hit-testing, selection, views.

mod common;

use common::{events, ipc, Col, Rng, SEC, T0};
use hg_render::raster::Rgba;
use hg_render::theme;
use hg_render::timeline::TimelineChart;

fn spec(extra: &str) -> String {
    format!(
        r#"{{"mode": "events", "datasets": [{{"name": "Processes", "time_column": "TimeGenerated",
        "source_columns": ["Computer"], "color": null, "group_by": null}}]{extra}}}"#
    )
}

/// Three hosts; host "b" has a null host row and one null time.
fn small() -> Vec<u8> {
    let t = |s: i64| Some(T0 + s * SEC);
    ipc(vec![
        Col::Time(
            "TimeGenerated",
            vec![t(0), t(60), t(120), None, t(3600), t(1800)],
        ),
        Col::Str(
            "Computer",
            vec![
                Some("b".into()),
                Some("a".into()),
                None,
                Some("a".into()),
                Some("c".into()),
                Some("b".into()),
            ],
        ),
        Col::Num(
            "Bytes",
            vec![Some(1.0), Some(5.0), Some(3.0), Some(2.0), Some(8.0), None],
        ),
    ])
}

fn chart(extra: &str, bytes: &[u8]) -> TimelineChart {
    let mut c = TimelineChart::new(&spec(extra)).unwrap_or_else(|e| panic!("{e}"));
    c.add_dataset("Processes", bytes).unwrap();
    c.resize(800.0, 300.0, 1.0).unwrap();
    c
}

fn lane_center(frame: &hg_render::frame::Frame, label: &str) -> f64 {
    let lane = frame
        .lanes
        .iter()
        .find(|l| l.label == label)
        .expect("lane exists");
    lane.y + lane.h / 2.0
}

#[test]
fn spec_errors_are_clear() {
    let err = |json: &str| {
        TimelineChart::new(json)
            .err()
            .expect("must fail")
            .to_string()
    };
    assert!(err(&spec(r#", "colour_by": "x""#)).contains("unknown field `colour_by`"));
    assert!(err(r#"{"mode": "bubbles", "datasets": []}"#).contains("unknown variant `bubbles`"));
    assert!(err(r#"{"mode": "events", "datasets": []}"#).contains("no data sets"));
    assert!(err(&spec(r#", "mode2": 1"#)).contains("mode2"));
    assert!(err(&spec(r#", "marker_size": -1"#)).contains("marker_size"));
    assert!(
        err(r#"{"mode": "values", "datasets": [{"name": "A", "time_column": "T"}]}"#)
            .contains("value_column")
    );
    assert!(err(&spec(r#", "start_column": "S""#)).contains("end_column"));
    assert!(err("not json").contains("invalid timeline spec"));
}

#[test]
fn unknown_columns_are_named_with_the_columns_that_exist() {
    let mut c = TimelineChart::new(&spec(r#", "group_by": "Hostname""#)).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    let message = c.prepare().unwrap_err().to_string();
    assert!(
        message.contains("'Processes'") && message.contains("'Hostname'"),
        "{message}"
    );
    assert!(
        message.contains("TimeGenerated, Computer, Bytes"),
        "{message}"
    );

    let mut c = TimelineChart::new(&spec("").replace("\"TimeGenerated\"", "\"When\"")).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    let message = c.render().unwrap_err().to_string();
    assert!(message.contains("'When'"), "{message}");

    let mut c =
        TimelineChart::new(&spec("").replace("[\"Computer\"]", "[\"CommandLine\"]")).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    assert!(c
        .prepare()
        .unwrap_err()
        .to_string()
        .contains("'CommandLine'"));

    let mut c = TimelineChart::new(&spec("").replace("\"TimeGenerated\"", "\"Computer\"")).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    let message = c.prepare().unwrap_err().to_string();
    assert!(
        message.contains("'Computer'") && message.contains("Utf8"),
        "{message}"
    );
}

#[test]
fn data_sets_must_match_the_spec() {
    let mut c = TimelineChart::new(&spec("")).unwrap();
    let message = c.add_dataset("Logons", &small()).unwrap_err().to_string();
    assert!(
        message.contains("'Logons'") && message.contains("Processes"),
        "{message}"
    );
    assert!(c.prepare().unwrap_err().to_string().contains("Processes"));
    let message = c
        .add_dataset("Processes", b"garbage")
        .unwrap_err()
        .to_string();
    assert!(message.contains("Arrow IPC"), "{message}");
}

#[test]
fn group_by_makes_sorted_lanes_with_missing_last() {
    let mut c = chart(r#", "group_by": "Computer""#, &small());
    let p = c.prepare().unwrap();
    let labels: Vec<&str> = p.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["a", "b", "c", "(missing)"]);
    assert_eq!(p.n_events, 5, "the null time is dropped");
    assert_eq!(p.t_min_ms, Some(T0 as f64 / 1e6));
    assert_eq!(p.t_max_ms, Some((T0 + 3600 * SEC) as f64 / 1e6));
    assert_eq!(p.height, 300.0 + 30.0 + 38.0);
    // One data set with groups: lanes take palette colours, distinct per lane.
    assert_ne!(p.lanes[0].color, p.lanes[1].color);
    // reset_view: extent plus 10 % each side.
    let [s, e] = c.view();
    assert!(
        (s - (T0 as f64 / 1e6 - 360_000.0)).abs() < 1e-3
            && (e - ((T0 + 3600 * SEC) as f64 / 1e6 + 360_000.0)).abs() < 1e-3
    );
}

#[test]
fn without_group_by_there_is_one_lane_per_data_set() {
    let json = r##"{"mode": "events", "datasets": [
        {"name": "Processes", "time_column": "TimeGenerated", "color": "#ff0000"},
        {"name": "Logons", "time_column": "TimeGenerated"}]}"##;
    let mut c = TimelineChart::new(json).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    c.add_dataset("Logons", &events(50, 2, 3)).unwrap();
    let p = c.prepare().unwrap();
    let labels: Vec<&str> = p.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["Processes", "Logons"]);
    assert_eq!(p.lanes[0].color, "#ff0000");
    assert_eq!(p.n_events, 55);
    assert!(p.legend.is_empty());
    c.select_box(0.0, 0.0, 2000.0, 2000.0, false).unwrap();
    let sel = c.selection();
    assert_eq!(sel[0].0, "Processes");
    assert_eq!(sel[0].1, [0, 1, 2, 4, 5]);
    assert_eq!(sel[1].1.len(), 50);
}

#[test]
fn render_draws_marks_where_the_events_are() {
    let mut c = chart(r#", "group_by": "Computer", "title": "Events""#, &small());
    c.set_view(
        T0 as f64 / 1e6 - 600_000.0,
        (T0 + 3600 * SEC) as f64 / 1e6 + 600_000.0,
    )
    .unwrap();
    let frame = c.render().unwrap();
    assert_eq!(c.pixels().len(), 800 * 300 * 4);
    assert_eq!((c.pixel_width(), c.pixel_height()), (800, 300));
    assert_eq!(frame.lanes.len(), 4);
    assert!(frame.texts.iter().any(|t| t.text == "Events"));
    assert!(frame.texts.iter().any(|t| t.text == "(missing)"));
    assert!(!frame.ticks.is_empty());
    let x = c.ms_to_x(T0 as f64 / 1e6 + 3_600_000.0);
    let y = lane_center(&frame, "c");
    let px = |c: &TimelineChart, x: f64, y: f64| {
        let i = ((y as usize) * c.pixel_width() + x as usize) * 4;
        Rgba {
            r: c.pixels()[i],
            g: c.pixels()[i + 1],
            b: c.pixels()[i + 2],
            a: c.pixels()[i + 3],
        }
    };
    assert_ne!(px(&c, x, y), theme::LIGHT.background, "a mark at the event");
    assert_eq!(
        px(&c, x + 40.0, y),
        theme::LIGHT.background,
        "nothing beside it"
    );
    // Device pixels follow the pixel ratio.
    c.resize(400.0, 150.0, 2.0).unwrap();
    c.render().unwrap();
    assert_eq!((c.pixel_width(), c.pixel_height()), (800, 300));
    // Dark theme changes the background.
    c.set_theme(true);
    c.render().unwrap();
    assert_eq!(
        &c.pixels()[0..3],
        &[
            theme::DARK.background.r,
            theme::DARK.background.g,
            theme::DARK.background.b
        ]
    );
}

#[test]
fn hit_test_finds_the_nearest_mark_within_six_pixels() {
    let mut c = chart(r#", "group_by": "Computer""#, &small());
    let frame = c.render().unwrap();
    let x = c.ms_to_x((T0 + 3600 * SEC) as f64 / 1e6);
    let y = lane_center(&frame, "c");
    let id = c.hit_test(x + 3.0, y + 2.0).unwrap().expect("hit");
    let tip = c.tooltip(id).unwrap();
    assert_eq!(
        (tip.dataset.as_str(), tip.row, tip.lane.as_str()),
        ("Processes", 4, "c")
    );
    assert_eq!(
        tip.fields[0],
        (
            "TimeGenerated".to_string(),
            "2024-03-14 01:00:00.000".to_string()
        )
    );
    assert_eq!(tip.fields[1], ("Computer".to_string(), "c".to_string()));
    assert_eq!(c.hit_test(x + 12.0, y).unwrap(), None, "too far right");
    assert_eq!(
        c.hit_test(x, y + 30.0).unwrap(),
        None,
        "other lane has nothing there"
    );
    assert!(c.tooltip(99).is_err());
    // select_at: click selects, additive click toggles, click on nothing clears.
    c.select_at(x, y, false).unwrap();
    assert_eq!(c.selection()[0].1, [4]);
    c.select_at(x, y, true).unwrap();
    assert!(c.selection()[0].1.is_empty());
    c.select_at(x, y, true).unwrap();
    c.select_at(5.0, 5.0, true).unwrap();
    assert_eq!(
        c.selection()[0].1,
        [4],
        "additive click on nothing keeps the selection"
    );
    c.select_at(5.0, 5.0, false).unwrap();
    assert!(c.selection()[0].1.is_empty());
}

#[test]
fn hit_test_agrees_with_brute_force_on_many_events() {
    let mut c = TimelineChart::new(&spec(r#", "group_by": "Computer""#)).unwrap();
    c.add_dataset("Processes", &events(200_000, 4, 11)).unwrap();
    c.resize(1000.0, 400.0, 1.0).unwrap();
    let frame = c.render().unwrap();
    let p = c.prepare().unwrap();
    assert_eq!(p.n_events, 200_000);
    // Zoom so that marks are sparse enough for misses to happen too.
    c.set_view(T0 as f64 / 1e6, T0 as f64 / 1e6 + 240_000.0)
        .unwrap();
    let frame2 = c.render().unwrap();
    assert_eq!(frame.lanes.len(), frame2.lanes.len());
    let mut rng = Rng(5);
    let mut hits = 0;
    for _ in 0..200 {
        let x = frame2.plot.x + rng.below(frame2.plot.w as u64) as f64;
        // Near a lane centre (within 10 px) so that both hits and misses occur.
        let lane = &frame2.lanes[rng.below(frame2.lanes.len() as u64) as usize];
        let y = lane.y + lane.h / 2.0 + rng.below(21) as f64 - 10.0;
        let got = c.hit_test(x, y).unwrap();
        // Brute force over the events near x through tooltips is too slow; instead check that
        // a reported hit is within 6 px and that a miss has no mark of its lane within 6 px of x.
        match got {
            Some(id) => {
                hits += 1;
                let tip = c.tooltip(id).unwrap();
                let lane_y = lane_center(&frame2, &tip.lane);
                let t = &tip.fields[0].1;
                let secs: f64 = t[11..13].parse::<f64>().unwrap() * 3600.0
                    + t[14..16].parse::<f64>().unwrap() * 60.0
                    + t[17..].parse::<f64>().unwrap();
                let mx = c.ms_to_x(T0 as f64 / 1e6 + secs * 1000.0);
                assert!(
                    ((mx - x).powi(2) + (lane_y - y).powi(2)).sqrt() <= 6.0 + 0.01,
                    "hit too far"
                );
            }
            None => {
                for lane in &frame2.lanes {
                    let dy = (lane.y + lane.h / 2.0 - y).abs();
                    if dy < 5.9 {
                        let dx = (36.0f64 - dy * dy).sqrt() - 0.05;
                        c.select_box(
                            x - dx + 0.01,
                            lane.y + lane.h / 2.0 - 0.1,
                            x + dx - 0.01,
                            lane.y + lane.h / 2.0 + 0.1,
                            false,
                        )
                        .unwrap();
                        let n: usize = c.selection().iter().map(|s| s.1.len()).sum();
                        assert_eq!(n, 0, "a miss at ({x}, {y}) has a mark within 6 px");
                    }
                }
            }
        }
    }
    assert!(hits > 50 && hits < 190, "{hits} hits of 200");
}

#[test]
fn box_select_selects_lanes_and_times_inside() {
    let mut c = chart(r#", "group_by": "Computer""#, &small());
    let frame = c.render().unwrap();
    let ya = lane_center(&frame, "a");
    let yb = lane_center(&frame, "b");
    let x0 = c.ms_to_x(T0 as f64 / 1e6 - 1000.0);
    let x1 = c.ms_to_x((T0 + 1900 * SEC) as f64 / 1e6);
    c.select_box(x0, ya - 1.0, x1, yb + 1.0, false).unwrap();
    assert_eq!(c.selection()[0].1, [0, 1, 5]);
    c.select_box(x0, ya - 1.0, x1, ya + 1.0, false).unwrap();
    assert_eq!(c.selection()[0].1, [1]);
    let yc = lane_center(&frame, "c");
    c.select_box(0.0, yc - 1.0, 800.0, yc + 1.0, true).unwrap();
    assert_eq!(c.selection()[0].1, [1, 4]);
    assert_eq!(c.selected_count(), 2);
    let frame = c.render().unwrap();
    assert_eq!(frame.lanes.len(), 4, "selected marks render");
    c.clear_selection();
    assert!(c.selection()[0].1.is_empty());
    assert!(c.select_box(f64::NAN, 0.0, 1.0, 1.0, false).is_err());
}

#[test]
fn zoom_pan_and_view_round_trip() {
    let mut c = chart("", &small());
    c.prepare().unwrap();
    c.set_view(1_000_000.0, 2_000_000.0).unwrap();
    assert_eq!(c.view(), [1_000_000.0, 2_000_000.0]);
    let x = c.ms_to_x(1_500_000.0);
    assert!((c.x_to_ms(x) - 1_500_000.0).abs() < 1e-3);
    c.zoom_at(x, 0.5).unwrap();
    let [s, e] = c.view();
    assert!(
        (s - 1_250_000.0).abs() < 1e-3 && (e - 1_750_000.0).abs() < 1e-3,
        "{s} {e}"
    );
    let before = c.view();
    c.pan_by(100.0).unwrap();
    let after = c.view();
    assert!(after[0] < before[0] && ((after[1] - after[0]) - (before[1] - before[0])).abs() < 1e-3);
    c.zoom_at(x, 1e-12).unwrap();
    let [s, e] = c.view();
    assert!(
        (e - s - 10.0).abs() < 1e-6,
        "zoom stops at 10 ms: {}",
        e - s
    );
    assert!(c.set_view(5.0, 5.0).is_err());
    assert!(c.set_view(f64::NAN, 5.0).is_err());
    assert!(c.zoom_at(1.0, 0.0).is_err());
    assert!(c.resize(0.0, 10.0, 1.0).is_err());
    c.reset_view();
    let [s, e] = c.view();
    assert!(s < T0 as f64 / 1e6 && e > (T0 + 3600 * SEC) as f64 / 1e6);
}

#[test]
fn color_by_builds_a_legend_with_grey_missing() {
    let mut c = chart(r#", "color_by": "Computer""#, &small());
    let p = c.prepare().unwrap();
    let labels: Vec<&str> = p.legend.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["a", "b", "c", "(missing)"]);
    assert_eq!(p.legend[3].color, theme::LIGHT.missing.css());
    let frame = c.render().unwrap();
    assert!(
        frame.texts.iter().any(|t| t.text == "(missing)"),
        "legend label drawn"
    );
}

#[test]
fn reference_markers_draw_dashed_lines_and_labels() {
    let marker = (T0 + 1800 * SEC) as f64 / 1e6;
    let mut c = chart(
        &format!(r#", "ref_markers": [{{"time_ms": {marker}, "label": "Alert time"}}]"#),
        &small(),
    );
    let frame = c.render().unwrap();
    let label = frame
        .texts
        .iter()
        .find(|t| t.text == "< Alert time")
        .expect("label");
    assert_eq!(label.color, theme::LIGHT.reference.css());
    let x = c.ms_to_x(marker).floor() as usize;
    let reds = (frame.plot.y as usize + 1..frame.plot.bottom() as usize)
        .filter(|&y| {
            let i = (y * c.pixel_width() + x) * 4;
            c.pixels()[i] > 180 && c.pixels()[i + 1] < 120
        })
        .count();
    let h = frame.plot.h as usize;
    assert!(reds > h / 3 && reds < h, "dashed: {reds} of {h}");
}

#[test]
fn values_mode_plots_numbers_and_hits_points() {
    for kind in ["line", "scatter", "bar"] {
        let json = spec(&format!(
            r#", "value_column": "Bytes", "value_kind": "{kind}""#
        ))
        .replace("\"events\"", "\"values\"");
        let mut c = TimelineChart::new(&json).unwrap();
        c.add_dataset("Processes", &small()).unwrap();
        c.resize(800.0, 300.0, 1.0).unwrap();
        let p = c.prepare().unwrap();
        assert_eq!(
            p.n_events, 4,
            "{kind}: rows without time or value are dropped"
        );
        assert_eq!((p.value_min, p.value_max), (Some(1.0), Some(8.0)));
        let frame = c.render().unwrap();
        assert!(frame.lanes.is_empty());
        assert!(
            frame.texts.iter().any(|t| t.text == "Bytes"),
            "{kind}: axis title"
        );
        if kind == "scatter" {
            c.select_box(0.0, 0.0, 800.0, 300.0, false).unwrap();
            assert_eq!(c.selection()[0].1, [0, 1, 2, 4]);
        }
    }
    let json = spec(r#", "value_column": "Computer""#).replace("\"events\"", "\"values\"");
    let mut c = TimelineChart::new(&json).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    let message = c.prepare().unwrap_err().to_string();
    assert!(
        message.contains("'Computer'") && message.contains("numeric"),
        "{message}"
    );
}

#[test]
fn duration_mode_draws_lane_bars_and_row_bars() {
    let json = spec(r#", "group_by": "Computer""#).replace("\"events\"", "\"duration\"");
    let mut c = TimelineChart::new(&json).unwrap();
    c.add_dataset("Processes", &small()).unwrap();
    c.resize(800.0, 300.0, 1.0).unwrap();
    let frame = c.render().unwrap();
    // Lane "b" spans 0 s .. 1800 s: its bar covers the middle of that range.
    let y = lane_center(&frame, "b") as usize;
    let x = c.ms_to_x((T0 + 900 * SEC) as f64 / 1e6) as usize;
    let i = (y * c.pixel_width() + x) * 4;
    assert_ne!(&c.pixels()[i..i + 3], &[255, 255, 255], "bar drawn");

    let t = |s: i64| Some(T0 + s * SEC);
    let rows = ipc(vec![
        Col::Time("TimeGenerated", vec![t(0), t(100), t(200)]),
        Col::Time("Start", vec![t(0), t(100), t(200)]),
        Col::Time("End", vec![t(50), None, t(400)]),
        Col::Str(
            "Computer",
            vec![Some("x".into()), Some("x".into()), Some("y".into())],
        ),
    ]);
    let json = spec(r#", "group_by": "Computer", "start_column": "Start", "end_column": "End""#)
        .replace("\"events\"", "\"duration\"");
    let mut c = TimelineChart::new(&json).unwrap();
    c.add_dataset("Processes", &rows).unwrap();
    c.resize(800.0, 300.0, 1.0).unwrap();
    let p = c.prepare().unwrap();
    assert_eq!(p.t_max_ms, Some((T0 + 400 * SEC) as f64 / 1e6));
    let frame = c.render().unwrap();
    let y = lane_center(&frame, "y");
    let id = c
        .hit_test(c.ms_to_x((T0 + 300 * SEC) as f64 / 1e6), y)
        .unwrap()
        .expect("inside the bar");
    assert_eq!(c.tooltip(id).unwrap().row, 2);
    assert_eq!(
        c.hit_test(c.ms_to_x((T0 + 450 * SEC) as f64 / 1e6), y)
            .unwrap(),
        None
    );
    c.select_box(
        c.ms_to_x((T0 + 30 * SEC) as f64 / 1e6),
        0.0,
        c.ms_to_x((T0 + 40 * SEC) as f64 / 1e6),
        300.0,
        false,
    )
    .unwrap();
    assert_eq!(c.selection()[0].1, [0]);
}

#[test]
fn overview_covers_all_data_and_maps_x_both_ways() {
    let mut c = chart(r#", "group_by": "Computer""#, &small());
    let o = c.render_overview(800.0, 60.0, 2.0).unwrap();
    assert_eq!((c.overview_width(), c.overview_height()), (1600, 120));
    assert_eq!(c.overview_pixels().len(), 1600 * 120 * 4);
    let span = 3_600_000.0;
    assert!((o.domain_ms[0] - (T0 as f64 / 1e6 - 0.15 * span)).abs() < 1e-3);
    let x = c.ms_to_overview_x(T0 as f64 / 1e6 + 1000.0);
    assert!((c.overview_x_to_ms(x) - (T0 as f64 / 1e6 + 1000.0)).abs() < 1.0);
    assert!(x > o.plot.x && x < o.plot.right());
    assert!(c.render_overview(0.0, 10.0, 1.0).is_err());
}

#[test]
fn empty_data_renders_a_message() {
    let bytes = ipc(vec![
        Col::Time("TimeGenerated", vec![]),
        Col::Str("Computer", vec![]),
    ]);
    let mut c = chart("", &bytes);
    let p = c.prepare().unwrap();
    assert_eq!((p.n_events, p.t_min_ms), (0, None));
    let frame = c.render().unwrap();
    assert!(frame.texts.iter().any(|t| t.text == "No data to plot."));
    assert_eq!(c.hit_test(100.0, 100.0).unwrap(), None);
}

#[test]
fn dense_lanes_render_one_mark_per_pixel_column() {
    // 300k events in 3 lanes all inside the view: rendering stays bounded and fills the lanes.
    let mut c = TimelineChart::new(&spec(r#", "group_by": "Computer""#)).unwrap();
    c.add_dataset("Processes", &events(300_000, 3, 9)).unwrap();
    c.resize(600.0, 200.0, 1.0).unwrap();
    let frame = c.render().unwrap();
    let y = lane_center(&frame, "host1") as usize;
    let x = c.ms_to_x((T0 + 43_200 * SEC) as f64 / 1e6) as usize;
    let i = (y * c.pixel_width() + x) * 4;
    let lane_color = Rgba::parse(&c.prepare().unwrap().lanes[1].color).unwrap();
    // ~1,000 marks per pixel column stack to the full lane colour.
    assert_eq!(
        &c.pixels()[i..i + 3],
        &[lane_color.r, lane_color.g, lane_color.b]
    );
}

#[test]
fn groups_without_a_drawable_row_get_no_lane() {
    let t = |s: i64| Some(T0 + s * SEC);
    let bytes = ipc(vec![
        Col::Time("TimeGenerated", vec![t(0), None, t(5), None]),
        Col::Str(
            "Computer",
            vec![
                Some("a".into()),
                Some("ghost".into()),
                Some("b".into()),
                None,
            ],
        ),
    ]);
    let mut c = chart(r#", "group_by": "Computer""#, &bytes);
    let p = c.prepare().unwrap();
    let labels: Vec<&str> = p.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["a", "b"]);
    c.select_box(0.0, 0.0, 800.0, 300.0, false).unwrap();
    assert_eq!(c.selection()[0].1, [0, 2]);
}

#[test]
fn colour_categories_in_one_pixel_column_composite_like_overdrawn_marks() {
    // Two events at the same instant: "b" drawn after "a" (equal times keep row order), so the
    // pixel is a's colour at 0.5 under b's colour at 0.5 over the background.
    let bytes = ipc(vec![
        Col::Time(
            "TimeGenerated",
            vec![
                Some(T0 + 437 * SEC),
                Some(T0 + 437 * SEC),
                Some(T0 + 3000 * SEC),
            ],
        ),
        Col::Str(
            "Computer",
            vec![Some("a".into()), Some("b".into()), Some("a".into())],
        ),
    ]);
    let mut c = chart(r#", "color_by": "Computer""#, &bytes);
    let p = c.prepare().unwrap();
    let a = Rgba::parse(&p.legend[0].color).unwrap();
    let b = Rgba::parse(&p.legend[1].color).unwrap();
    let frame = c.render().unwrap();
    // (437 s is off every grid line of this span.)
    let x = c.ms_to_x((T0 + 437 * SEC) as f64 / 1e6) as usize;
    let y = (frame.lanes[0].y + frame.lanes[0].h / 2.0) as usize;
    let i = (y * c.pixel_width() + x) * 4;
    let expect =
        |bg: u8, ca: u8, cb: u8| (bg as f64 * 0.25 + ca as f64 * 0.25 + cb as f64 * 0.5) as i32;
    let got = &c.pixels()[i..i + 3];
    for (k, (ca, cb)) in [(a.r, b.r), (a.g, b.g), (a.b, b.b)].into_iter().enumerate() {
        assert!(
            (got[k] as i32 - expect(255, ca, cb)).abs() <= 3,
            "channel {k}: {got:?} vs a {a:?} b {b:?}"
        );
    }
}

#[test]
fn close_reference_marker_labels_take_separate_rows_and_never_overlap() {
    // Twelve alerts a minute apart: far closer than a label is wide.
    let markers: Vec<String> = (0..12)
        .map(|i| {
            let t = (T0 + (600 + 60 * i) * SEC) as f64 / 1e6;
            format!(r#"{{"time_ms": {t}, "label": "Suspicious alert number {i}"}}"#)
        })
        .collect();
    let mut c = chart(
        &format!(r#", "ref_markers": [{}]"#, markers.join(",")),
        &small(),
    );
    let frame = c.render().unwrap();
    let labels: Vec<_> = frame
        .texts
        .iter()
        .filter(|t| t.text.starts_with("< Suspicious"))
        .collect();
    assert!(labels.len() >= 2, "some labels are drawn: {}", labels.len());
    assert!(labels.len() < 12, "the ones with no free row are left out");
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            let same_row = (a.y - b.y).abs() < 1.0;
            let (left, right) = if a.x <= b.x { (a, b) } else { (b, a) };
            let left_end = left.x + left.text.chars().count() as f64 * 6.0;
            assert!(
                !same_row || left_end <= right.x,
                "{:?} overlaps {:?}",
                left.text,
                right.text
            );
        }
    }
}
