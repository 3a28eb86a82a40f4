//! Scoring Arrow session columns (commands, structs with parameter lists, structs with maps):
//! the same numbers as the JSON path, the reference's column names, both window modes, errors.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, MapBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use hg_analytics::{
    score_table, sessions_from_column, Command, Model, ScoreOptions, SessionBatch, TrainOptions,
    WindowEnd,
};
use hg_arrow::Table;

fn table_of(name: &str, array: ArrayRef) -> Table {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new(name, array.data_type().clone(), true),
    ]));
    let ids: ArrayRef = Arc::new(StringArray::from(
        (0..array.len())
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), vec![ids, array]).unwrap();
    Table::new(schema, vec![batch]).unwrap()
}

fn list_of(items: ArrayRef, lengths: &[usize]) -> ArrayRef {
    let field = Arc::new(Field::new("item", items.data_type().clone(), true));
    Arc::new(
        ListArray::try_new(
            field,
            OffsetBuffer::from_lengths(lengths.iter().copied()),
            items,
            None,
        )
        .unwrap(),
    )
}

fn sessions() -> Vec<Vec<Command>> {
    let v = |n: &str, p: &[(&str, Option<&str>)]| Command::WithValues {
        name: n.into(),
        params: p
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect(),
    };
    vec![
        vec![
            v("Set-User", &[("Identity", Some("bob"))]),
            v("Set-Mailbox", &[("Identity", Some("bob")), ("Audit", None)]),
        ],
        vec![
            v("Set-User", &[("Identity", Some("amy"))]),
            v("Set-Mailbox", &[]),
        ],
        vec![v("New-InboxRule", &[("ForwardTo", Some("x@evil.example"))])],
    ]
}

/// Builds the three Arrow forms of `sessions()`.
fn arrow_forms() -> (ArrayRef, ArrayRef, ArrayRef) {
    let s = sessions();
    let lengths: Vec<usize> = s.iter().map(Vec::len).collect();
    let flat: Vec<&Command> = s.iter().flatten().collect();
    let names: ArrayRef = Arc::new(StringArray::from(
        flat.iter().map(|c| c.name()).collect::<Vec<_>>(),
    ));
    let cmds = list_of(names.clone(), &lengths);

    let mut pl = ListBuilder::new(StringBuilder::new());
    let mut mb = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for c in &flat {
        if let Command::WithValues { params, .. } = c {
            for (k, v) in params {
                pl.values().append_value(k);
                mb.keys().append_value(k);
                mb.values().append_option(v.as_deref());
            }
        }
        pl.append(true);
        mb.append(true).unwrap();
    }
    let plist: ArrayRef = Arc::new(pl.finish());
    let map: ArrayRef = Arc::new(mb.finish());
    let st = |params: ArrayRef| -> ArrayRef {
        Arc::new(
            StructArray::try_new(
                Fields::from(vec![
                    Field::new("name", DataType::Utf8, false),
                    Field::new("params", params.data_type().clone(), true),
                ]),
                vec![names.clone(), params],
                None,
            )
            .unwrap(),
        )
    };
    (
        cmds,
        list_of(st(plist), &lengths),
        list_of(st(map), &lengths),
    )
}

#[test]
fn arrow_forms_match_the_json_path() {
    let (cmds, with_params, with_values) = arrow_forms();
    let json_values = SessionBatch::from_sessions(&sessions()).unwrap();
    let as_params: Vec<Vec<Command>> = sessions()
        .iter()
        .map(|s| {
            s.iter()
                .map(|c| match c {
                    Command::WithValues { name, params } => Command::WithParams {
                        name: name.clone(),
                        params: params.iter().map(|p| p.0.clone()).collect(),
                    },
                    other => other.clone(),
                })
                .collect()
        })
        .collect();
    let as_names: Vec<Vec<Command>> = sessions()
        .iter()
        .map(|s| s.iter().map(|c| Command::Name(c.name().into())).collect())
        .collect();
    let opts = ScoreOptions::default();
    for (array, reference) in [
        (cmds, SessionBatch::from_sessions(&as_names).unwrap()),
        (
            with_params,
            SessionBatch::from_sessions(&as_params).unwrap(),
        ),
        (with_values, json_values),
    ] {
        let table = table_of("ops", array);
        let batch = sessions_from_column(&table, "ops").unwrap();
        assert_eq!(batch.session_type(), reference.session_type());
        for s in 0..batch.len() {
            assert_eq!(batch.session(s), reference.session(s));
        }
        let model = Model::train(&reference, &TrainOptions::default()).unwrap();
        let want = model.score(&reference, &opts).unwrap();
        let (out, _) =
            score_table(&table, "ops", None, &TrainOptions::default(), &opts, true).unwrap();
        let names: Vec<String> = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "id",
                "ops",
                "rarest_window3_likelihood",
                "rarest_window3",
                "session_likelihood",
                "session_geomean_likelihood"
            ]
        );
        let lik = out.column(2).as_primitive::<Float64Type>();
        for (i, w) in want.iter().enumerate() {
            let got = lik.value(i);
            assert!(
                got == w.rarest_likelihood() || (got.is_nan() && w.rarest_likelihood().is_nan())
            );
            assert_eq!(
                out.column(4).as_primitive::<Float64Type>().value(i),
                w.likelihood
            );
        }
        // Session 2 (one command): no window of 3 fits with the end token -> NaN, empty window.
        assert!(lik.value(2).is_nan());
        let windows = out.column(3).as_list::<i32>();
        assert_eq!(windows.value_length(2), 0);
        // Window of 3 over [Set-User, Set-Mailbox, END] is returned one short by default ...
        assert_eq!(windows.value_length(0), 2);
        // ... and whole with the corrected option.
        let fixed = ScoreOptions {
            window_end: WindowEnd::IncludeEndToken,
            ..opts
        };
        let (out, _) = score_table(
            &table,
            "ops",
            Some(&model),
            &TrainOptions::default(),
            &fixed,
            false,
        )
        .unwrap();
        let windows = out.column(3).as_list::<i32>();
        assert_eq!(windows.value_length(0), 3);
        let last = windows.value(0);
        let last_name = match last.data_type() {
            DataType::Utf8 => last.as_string::<i32>().value(2).to_string(),
            _ => last
                .as_struct()
                .column_by_name("name")
                .unwrap()
                .as_string::<i32>()
                .value(2)
                .to_string(),
        };
        assert_eq!(last_name, "##END##");
    }
}

#[test]
fn arrow_errors_name_the_problem() {
    let items: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
    let t = table_of("ops", list_of(items, &[1, 1]));
    let e = sessions_from_column(&t, "ops").unwrap_err().to_string();
    assert!(e.contains("session 1 item 0"), "{e}");
    let items: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
    let t = table_of("ops", list_of(items, &[1, 0]));
    let e = sessions_from_column(&t, "ops").unwrap_err().to_string();
    assert!(e.contains("session 1 is empty"), "{e}");
    let e = sessions_from_column(&t, "id").unwrap_err().to_string();
    assert!(e.contains("'id'") && e.contains("list"), "{e}");
    let e = sessions_from_column(&t, "nope").unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
}
