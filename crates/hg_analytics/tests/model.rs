//! The Markov model against the worked examples of the behaviour reference (section 3.9), the
//! smoothing rules of section 3.4, quirks and their corrected options, model bytes and errors.

use hg_analytics::{
    AnalyticsError, Command, Model, ScoreOptions, SessionBatch, SessionType, TrainOptions,
    WindowEnd,
};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE) || (a.is_nan() && b.is_nan())
}

fn assert_close(got: f64, want: f64, rel: f64) {
    assert!(close(got, want, rel), "got {got}, want {want}");
}

fn cmds(sessions: &[&[&str]]) -> SessionBatch {
    let s: Vec<Vec<Command>> = sessions
        .iter()
        .map(|s| s.iter().map(|&c| Command::from(c)).collect())
        .collect();
    SessionBatch::from_sessions(&s).unwrap()
}

fn worked() -> (SessionBatch, Model) {
    let b = cmds(&[&["A", "B"], &["A", "B"], &["A", "B", "C"], &["C", "A"]]);
    let m = Model::train(&b, &TrainOptions::default()).unwrap();
    (b, m)
}

fn opts(w: usize, tokens: bool, geo: bool) -> ScoreOptions {
    ScoreOptions {
        window_length: Some(w),
        use_start_end_tokens: tokens,
        use_geo_mean: geo,
        window_end: WindowEnd::Reference,
    }
}

#[test]
fn worked_example_smoothing_and_probabilities() {
    let (b, m) = worked();
    assert_eq!(b.session_type(), SessionType::CmdsOnly);
    for (c, n) in [
        ("##START##", 9.0),
        ("A", 14.0),
        ("B", 13.0),
        ("##END##", 9.0),
        ("C", 12.0),
        ("##UNK##", 10.0),
        ("never-seen", 10.0),
    ] {
        assert_eq!(m.smoothed_count(c), n, "{c}");
    }
    assert_eq!(m.prior("A"), 14.0 / 67.0);
    assert_eq!(m.prior("X"), 10.0 / 67.0);
    assert_eq!(m.prior("##END##"), 9.0 / 67.0);
    assert_eq!(m.transition("##START##", "A"), 4.0 / 9.0);
    assert_eq!(m.transition("##START##", "B"), 1.0 / 9.0);
    assert_eq!(m.transition("A", "B"), 4.0 / 9.0);
    assert_eq!(m.transition("B", "##END##"), 3.0 / 8.0);
    assert_eq!(m.transition("X", "A"), 0.2);
    assert_eq!(m.transition("A", "X"), 1.0 / 9.0);
    assert_eq!(m.transition("C", "A"), 2.0 / 7.0);
}

#[test]
fn worked_example_scores() {
    let (b, m) = worked();
    let s = m.score(&b, &opts(2, true, false)).unwrap();
    let lik: Vec<f64> = s.iter().map(|x| x.likelihood).collect();
    for (g, w) in lik.iter().zip([0.0740741, 0.0740741, 0.0141093, 0.0141093]) {
        assert_close(*g, w, 1e-5);
    }
    assert_eq!(lik[0], 4.0 / 9.0 * (4.0 / 9.0) * (3.0 / 8.0));
    for (g, w) in s.iter().zip([0.27217, 0.27217, 0.24164, 0.11878]) {
        assert_close(g.geomean_likelihood, w, 1e-4);
    }
    // Window 2 with tokens: [A,B] -> [B,END] = 13/67 * 3/8, returned as ['B'].
    let r = s[0].rarest.unwrap();
    assert_eq!(r.likelihood, 13.0 / 67.0 * (3.0 / 8.0));
    assert_eq!((r.start, r.commands, r.includes_end), (1, 1, true));
    let session: Vec<String> = vec!["A".into(), "B".into()];
    assert_eq!(r.items(&session, WindowEnd::Reference), vec!["B"]);
    assert_eq!(
        r.items(&session, WindowEnd::IncludeEndToken),
        vec!["B", "##END##"]
    );
    assert_close(s[2].rarest_likelihood(), 0.0485075, 1e-5);
    assert_eq!(
        (s[2].rarest.unwrap().start, s[2].rarest.unwrap().commands),
        (1, 2)
    );
    assert_close(s[3].rarest_likelihood(), 0.0464345, 1e-5);
    assert_eq!(s[3].rarest.unwrap().start, 1);

    let s = m.score(&b, &opts(3, true, false)).unwrap();
    for (g, w) in s.iter().zip([0.0740741, 0.0740741, 0.0138593, 0.0141093]) {
        assert_close(g.rarest_likelihood(), w, 1e-5);
    }
    let s = m.score(&b, &opts(3, false, false)).unwrap();
    assert!(s[0].rarest.is_none() && s[3].rarest.is_none());
    assert!(s[0].rarest_likelihood().is_nan());
    assert_close(s[2].rarest_likelihood(), 0.0232172, 1e-5);
    let s = m.score(&b, &opts(2, false, true)).unwrap();
    assert_close(s[0].rarest_likelihood(), 0.304744, 1e-5);
    assert_eq!(
        s[0].rarest_likelihood(),
        (14.0f64 / 67.0 * (4.0 / 9.0)).powf(0.5)
    );
}

fn with_params(sessions: &[&[(&str, &[&str])]]) -> SessionBatch {
    let s: Vec<Vec<Command>> = sessions
        .iter()
        .map(|s| {
            s.iter()
                .map(|(n, p)| Command::WithParams {
                    name: n.to_string(),
                    params: p.iter().map(|x| x.to_string()).collect(),
                })
                .collect()
        })
        .collect();
    SessionBatch::from_sessions(&s).unwrap()
}

#[test]
fn worked_params_example() {
    let b = with_params(&[
        &[
            ("Set-User", &["Identity"]),
            ("Set-Mailbox", &["Identity", "AuditEnabled"]),
        ],
        &[("Set-User", &["Identity"]), ("Set-Mailbox", &["Identity"])],
        &[("Set-User", &["Identity", "Force"])],
    ]);
    assert_eq!(b.session_type(), SessionType::CmdsParamsOnly);
    let m = Model::train(&b, &TrainOptions::default()).unwrap();
    assert_eq!(m.smoothed_count("Set-User"), 11.0);
    assert_eq!(m.smoothed_count("Set-Mailbox"), 10.0);
    assert_eq!(m.param_probability("Set-User", "Identity"), 4.0 / 11.0);
    assert_eq!(m.param_probability("Set-User", "Force"), 2.0 / 11.0);
    assert_eq!(m.param_probability("Set-User", "AuditEnabled"), 1.0 / 11.0);
    assert_eq!(m.param_probability("Set-Mailbox", "AuditEnabled"), 0.2);
    // Unknown command: the unknown row, whose only entry is 1 / (2 (K + 2)) with K = 2.
    assert_eq!(m.param_probability("Nope", "Identity"), 1.0 / 8.0);
    let s = m.score(&b, &opts(2, true, false)).unwrap();
    for (g, w) in s.iter().zip([0.0299315, 0.0475132, 0.0639535]) {
        assert_close(g.likelihood, w, 1e-5);
    }
    for (g, w) in s.iter().zip([0.0439507, 0.0697674, 0.0639535]) {
        assert_close(g.rarest_likelihood(), w, 1e-5);
    }
}

#[test]
fn values_model_and_heuristic() {
    // 25 occurrences of `Mode` with 2 values: modellable; `Identity` with 25 distinct: not.
    let mut sessions = Vec::new();
    for i in 0..25 {
        sessions.push(vec![Command::WithValues {
            name: "Set-Thing".into(),
            params: vec![
                ("Identity".into(), Some(format!("user{i}"))),
                (
                    "Mode".into(),
                    Some(if i % 5 == 0 { "b" } else { "a" }.into()),
                ),
            ],
        }]);
    }
    let b = SessionBatch::from_sessions(&sessions).unwrap();
    assert_eq!(b.session_type(), SessionType::CmdsParamsValues);
    let m = Model::train(&b, &TrainOptions::default()).unwrap();
    assert_eq!(m.modellable_params(), vec!["Mode"]);
    // Row Mode: a 20+1, b 5+1, unknown 1 -> total 28.
    assert_eq!(m.value_probability("Mode", "a"), 21.0 / 28.0);
    assert_eq!(m.value_probability("Mode", "zzz"), 1.0 / 28.0);
    assert_eq!(m.value_probability("Unknown", "a"), 1.0);
    // Session likelihood: START->Set-Thing * params factor * Set-Thing->END.
    let s = m.score(&b, &opts(2, true, false)).unwrap();
    let seq1 = m.smoothed_count("Set-Thing");
    let (pi, pm, pu) = (26.0 / seq1, 26.0 / seq1, 1.0 / seq1);
    let factor = (pi * pm * (21.0 / 28.0) * (1.0 - pu)).powf(1.0 / 4.0);
    let want =
        m.transition("##START##", "Set-Thing") * factor * m.transition("Set-Thing", "##END##");
    assert_close(s[1].likelihood, want, 1e-12);
    let forced = Model::train(
        &b,
        &TrainOptions {
            modellable_params: Some(vec!["Identity".into(), "NotSeen".into()]),
        },
    )
    .unwrap();
    assert_eq!(forced.modellable_params(), vec!["Identity"]);
}

#[test]
fn train_on_one_set_score_another_and_bytes() {
    let (_, m) = worked();
    let today = cmds(&[&["A", "B"], &["Z", "A", "Q"]]);
    let s = m.score(&today, &opts(2, true, false)).unwrap();
    assert_eq!(s[0].likelihood, 4.0 / 9.0 * (4.0 / 9.0) * (3.0 / 8.0));
    // Z and Q unseen: START->UNK, UNK->A, A->UNK, UNK->END.
    let want = (1.0 / 9.0) * 0.2 * (1.0 / 9.0) * 0.2;
    assert_close(s[1].likelihood, want, 1e-15);

    let bytes = m.to_bytes().unwrap();
    assert_eq!(&bytes[..4], b"HGSM");
    let loaded = Model::from_bytes(&bytes).unwrap();
    assert_eq!(
        loaded.score(&today, &opts(3, true, true)).unwrap(),
        m.score(&today, &opts(3, true, true)).unwrap()
    );

    let e = Model::from_bytes(b"nope").unwrap_err();
    assert!(matches!(e, AnalyticsError::ModelBytes(_)), "{e}");
    let mut v2 = bytes.clone();
    v2[4] = 9;
    assert!(Model::from_bytes(&v2)
        .unwrap_err()
        .to_string()
        .contains("version 9"));
    for cut in 0..bytes.len() {
        assert!(Model::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // Every single-byte corruption is an error or a model that passed validation (scoring it
    // may still refuse the sessions, but never panics).
    for i in 6..bytes.len() {
        for x in [1u8, 0x80, 0xff] {
            let mut c = bytes.clone();
            c[i] ^= x;
            if let Ok(m2) = Model::from_bytes(&c) {
                let _ = m2.score(&today, &opts(2, true, false));
            }
        }
    }
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(Model::from_bytes(&extra).is_err());
}

#[test]
fn bad_sessions_are_errors() {
    let e = SessionBatch::from_sessions(&[]).unwrap_err();
    assert!(e.to_string().contains("no session"));
    let e = SessionBatch::from_sessions(&[vec!["A".into()], vec![]]).unwrap_err();
    assert!(e.to_string().contains("session 1 is empty"), "{e}");
    let e = SessionBatch::from_sessions(&[vec!["A".into(), "##END##".into()]]).unwrap_err();
    assert!(e.to_string().contains("session 0 item 1"), "{e}");
    let mixed = vec![vec![
        Command::from("A"),
        Command::WithParams {
            name: "B".into(),
            params: vec![],
        },
    ]];
    assert!(SessionBatch::from_sessions(&mixed).is_err());
    let (b, m) = worked();
    let mut o = opts(2, true, false);
    o.window_length = Some(0);
    assert!(m.score(&b, &o).is_err());
    // A parameters model cannot score commands-only sessions (the reference would crash).
    let pb = with_params(&[&[("A", &["x"])]]);
    let pm = Model::train(&pb, &TrainOptions::default()).unwrap();
    assert!(pm.score(&b, &opts(2, true, false)).is_err());
}

#[test]
fn json_commands() {
    let s: Vec<Vec<Command>> = serde_json::from_str(
        r#"[[{"name":"Set-User","params":{"Identity":"bob","Force":null,"N":0,"B":true}},
            {"name":"Set-Mailbox","params":["Identity"]}]]"#,
    )
    .unwrap();
    let b = SessionBatch::from_sessions(&s).unwrap();
    assert_eq!(b.session_type(), SessionType::CmdsParamsValues);
    assert_eq!(
        b.session(0)[0],
        Command::WithValues {
            name: "Set-User".into(),
            params: vec![
                ("Identity".into(), Some("bob".into())),
                ("Force".into(), None),
                ("N".into(), None),
                ("B".into(), Some("True".into()))
            ]
        }
    );
    let back = serde_json::to_string(&s[0][1]).unwrap();
    assert_eq!(back, r#"{"name":"Set-Mailbox","params":["Identity"]}"#);
    assert!(serde_json::from_str::<Command>(r#"{"params":[]}"#).is_err());
    assert!(serde_json::from_str::<Command>(r#"{"name":"x","params":3}"#).is_err());
}
