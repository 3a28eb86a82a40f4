//! The built-in scenario's Office 365 activity (hg_demo): sessionized by user and client address
//! with the reference notebook's settings (20 min sessions, 2 min gaps) and scored on operation
//! names with windows of 2, the attacker's session (mailbox delegation, forwarding rules,
//! role-group membership from 203.0.113.77) is the rarest. (With windows of 3 it ranks second
//! to twelfth depending on the sessionizing settings: long ordinary sessions collect rare windows
//! of three of their own.)

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::Array;
use hg_analytics::{score_table, sessionize, ScoreOptions, SessionizeOptions, TrainOptions};
use hg_arrow::Table;

#[test]
fn attacker_session_is_the_rarest() {
    let scenario = hg_demo::generate(hg_demo::DEFAULT_SEED, 1).unwrap();
    let office = scenario.table("OfficeActivity").unwrap();
    let table = Table::new(office.schema.clone(), office.batches.clone()).unwrap();
    let opts = SessionizeOptions::new(
        vec!["UserId".into(), "ClientIP".into()],
        "TimeGenerated",
        20.0,
        2.0,
        "Operation",
    )
    .unwrap();
    let sessions = sessionize(&table, &opts).unwrap();
    let sessions = Table::new(sessions.schema(), vec![sessions]).unwrap();
    let (scored, _) = score_table(
        &sessions,
        "Operation_list",
        None,
        &TrainOptions::default(),
        &ScoreOptions {
            window_length: Some(2),
            ..ScoreOptions::default()
        },
        false,
    )
    .unwrap();
    let lik = scored.column_by_name("rarest_window2_likelihood").unwrap();
    let lik = lik.as_primitive::<Float64Type>();
    let ips = scored.column_by_name("ClientIP").unwrap();
    let ips = ips.as_string::<i32>();
    let ops = scored.column_by_name("Operation_list").unwrap();
    let ops = ops.as_list::<i32>();
    let mut order: Vec<usize> = (0..lik.len()).filter(|&i| !lik.value(i).is_nan()).collect();
    order.sort_by(|&a, &b| lik.value(a).total_cmp(&lik.value(b)));
    let rarest = order[0];
    let listed = ops.value(rarest);
    let listed = listed.as_string::<i32>();
    let names: Vec<&str> = (0..listed.len()).map(|i| listed.value(i)).collect();
    eprintln!(
        "{} sessions; rarest {:e} from {}: {:?}; next {:e}",
        scored.num_rows(),
        lik.value(rarest),
        ips.value(rarest),
        names,
        lik.value(order[1])
    );
    assert_eq!(ips.value(rarest), "203.0.113.77");
    assert!(
        names.iter().any(|n| [
            "New-InboxRule",
            "Set-InboxRule",
            "Add-MailboxPermission",
            "Add-MailboxFolderPermission",
            "Add-RoleGroupMember",
            "Set-Mailbox"
        ]
        .contains(n)),
        "{names:?}"
    );
}
