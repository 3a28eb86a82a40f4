//! Elasticsearch / OpenSearch client against fake clusters on 127.0.0.1.

mod common;

use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampNanosecondType};
use arrow_schema::DataType;
use common::{json, start, Reply, Seen};
use hg_remote::{
    CollectSink, ElasticClient, ElasticConfig, EsQuery, QueryEvent, RemoteError, WarningKind,
};
use serde_json::{json as j, Value};

const API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

fn client(url: &str, extra: Value) -> ElasticClient {
    let mut args = j!({"url": url, "api_key": API_KEY, "PageSize": 2, "Timeout": 5});
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    let mut cfg =
        ElasticConfig::from_msticpy("DataProviders.Elastic", &j!({ "Args": args })).unwrap();
    cfg.http.retry.base_delay = Duration::from_millis(10);
    ElasticClient::new(cfg).unwrap()
}

fn docs() -> Vec<Value> {
    (0..5)
        .map(|i| {
            j!({"_index": ".ds-logs-windows-2026.06.30-000001", "_id": format!("id{i}"), "_score": null,
                "_source": {"@timestamp": format!("2026-06-30T10:11:1{i}.345Z"), "event": {"code": "4625", "duration": 1000 + i},
                            "source": {"ip": "185.220.101.45"}, "user": {"name": format!("user{i}")}, "tags": ["a", "b"]},
                "sort": [1_782_814_272_345i64 + i, i]})
        })
        .collect()
}

fn mapping() -> Value {
    j!({".ds-logs-windows-2026.06.30-000001": {"mappings": {"properties": {
        "@timestamp": {"type": "date"},
        "event": {"properties": {"code": {"type": "keyword"}, "duration": {"type": "long"}}},
        "source": {"properties": {"ip": {"type": "ip"}}},
        "user": {"properties": {"name": {"type": "keyword", "fields": {"text": {"type": "match_only_text"}}}}},
        "tags": {"type": "keyword"}
    }}}})
}

/// Serves pages of `docs()` after `search_after` (sort values are [n, i]).
fn page(body: &Value, shard_failure: bool) -> Value {
    let size = body["size"].as_u64().unwrap() as usize;
    let start = match body.get("search_after") {
        Some(sa) => sa[1].as_u64().unwrap() as usize + 1,
        None => 0,
    };
    let hits: Vec<Value> = docs().into_iter().skip(start).take(size).collect();
    let mut shards = j!({"total": 3, "successful": 3, "skipped": 0, "failed": 0});
    if shard_failure && start == 0 {
        shards = j!({"total": 3, "successful": 2, "skipped": 0, "failed": 1, "failures": [{"shard": 1, "index": "logs",
            "reason": {"type": "query_shard_exception", "reason": "failed to create query: field [event.code] not searchable"}}]});
    }
    j!({"took": 3, "timed_out": false, "_shards": shards, "pit_id": "pit-2",
        "hits": {"total": {"value": 5, "relation": "eq"}, "max_score": null, "hits": hits}})
}

fn es_fake(s: &Seen, shard_failure: bool) -> Reply {
    match (s.method.as_str(), s.path.as_str()) {
        ("GET", "/logs-*/_mapping") => json(200, mapping()),
        ("POST", "/logs-*/_pit") => json(200, j!({"id": "pit-1"})),
        ("POST", "/_search") => json(200, page(&s.json(), shard_failure)),
        ("DELETE", "/_pit") => json(200, j!({"succeeded": true, "num_freed": 1})),
        _ => json(
            404,
            j!({"error": {"type": "unexpected", "reason": format!("{} {}", s.method, s.path)}, "status": 404}),
        ),
    }
}

#[tokio::test]
async fn search_pages_with_pit_and_search_after_and_types_from_the_mapping() {
    let fake = start(|s, _| es_fake(s, false)).await;
    let c = client(&fake.url(), j!({}));
    let q = EsQuery::parse(r#"{"index": "logs-*", "query": {"bool": {"filter": [{"term": {"event.code": "4625"}}]}}, "sort": [{"@timestamp": "asc"}]}"#).unwrap();
    let mut sink = CollectSink::default();
    let s = c.query(&q, &mut sink).await.unwrap();
    assert_eq!((s.rows, s.partial), (5, false));

    let reqs = fake.requests();
    let seq: Vec<String> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        seq,
        [
            "GET /logs-*/_mapping",
            "POST /logs-*/_pit",
            "POST /_search",
            "POST /_search",
            "POST /_search",
            "DELETE /_pit"
        ]
    );
    assert!(reqs
        .iter()
        .all(|r| r.header("authorization") == Some(format!("ApiKey {API_KEY}").as_str())));
    assert_eq!(reqs[1].query_map()["keep_alive"], "1m");
    let first = reqs[2].json();
    assert_eq!(first["pit"], j!({"id": "pit-1", "keep_alive": "1m"}));
    assert_eq!(
        first["sort"],
        j!([{"@timestamp": "asc"}, {"_shard_doc": "asc"}])
    );
    assert_eq!(
        first["query"]["bool"]["filter"][0]["term"]["event.code"],
        "4625"
    );
    assert!(first.get("search_after").is_none() && first.get("index").is_none());
    let second = reqs[3].json();
    assert_eq!(second["search_after"], j!([1_782_814_272_346i64, 1]));
    assert_eq!(second["pit"]["id"], "pit-2", "the newest pit id is used");
    assert_eq!(reqs[5].json(), j!({"id": "pit-2"}));

    let schema = sink.schema.clone().unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "_index",
            "_id",
            "@timestamp",
            "event.code",
            "event.duration",
            "source.ip",
            "tags",
            "user.name"
        ]
    );
    assert!(matches!(
        schema.field(2).data_type(),
        DataType::Timestamp(_, _)
    ));
    assert_eq!(schema.field(4).data_type(), &DataType::Int64);
    assert_eq!(schema.field(5).data_type(), &DataType::Utf8);
    let rows: Vec<usize> = sink.batches.iter().map(|b| b.num_rows()).collect();
    assert_eq!(rows.iter().sum::<usize>(), 5);
    let b = &sink.batches[0];
    assert_eq!(
        b.column(2)
            .as_primitive::<TimestampNanosecondType>()
            .value(0),
        1_782_814_270_345_000_000
    );
    assert_eq!(b.column(4).as_primitive::<Int64Type>().value(1), 1001);
    assert_eq!(b.column(6).as_string::<i32>().value(0), "[\"a\",\"b\"]");
    assert_eq!(b.column(1).as_string::<i32>().value(0), "id0");
    assert!(sink
        .events
        .iter()
        .any(|e| matches!(e, QueryEvent::Progress { rows: 5 })));
}

#[tokio::test]
async fn shard_failures_are_partial_results() {
    let fake = start(|s, _| es_fake(s, true)).await;
    let c = client(&fake.url(), j!({}));
    let mut sink = CollectSink::default();
    let s = c
        .query(
            &EsQuery::parse(r#"{"index": "logs-*", "query": {"match_all": {}}}"#).unwrap(),
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((s.rows, s.partial), (5, true));
    let w = sink.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, WarningKind::PartialResult);
    assert!(
        w[0].message.contains("1 of 3 shards failed") && w[0].message.contains("not searchable"),
        "{}",
        w[0].message
    );
}

#[tokio::test]
async fn size_caps_the_hits_and_sort_paging_runs_without_a_pit() {
    // A server without point-in-time (404): plain search_after on the index, tiebreak on _id.
    let fake = start(|s, _| match (s.method.as_str(), s.path.as_str()) {
        ("GET", "/logs-*/_mapping") => json(403, j!({"error": {"type": "security_exception", "reason": "action [indices:admin/mappings/get] is unauthorized"}, "status": 403})),
        ("POST", "/logs-*/_search") => json(200, page(&s.json(), false)),
        _ => json(404, j!({"error": {"type": "illegal_argument_exception", "reason": "no handler"}, "status": 404})),
    })
    .await;
    let c = client(&fake.url(), j!({"index": "logs-*"}));
    let mut sink = CollectSink::default();
    let s = c
        .query(
            &EsQuery::parse(r#"{"size": 3, "sort": [{"@timestamp": "asc"}]}"#).unwrap(),
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(s.rows, 3);
    let reqs = fake.requests();
    let searches: Vec<&Seen> = reqs
        .iter()
        .filter(|r| r.path == "/logs-*/_search")
        .collect();
    assert_eq!(searches.len(), 2);
    assert_eq!(
        searches[0].json()["sort"],
        j!([{"@timestamp": "asc"}, {"_id": "asc"}])
    );
    assert_eq!(
        searches[1].json()["size"],
        1,
        "the last page asks only for what is left"
    );
    assert!(searches[0].json().get("pit").is_none());
    // Without the mapping the types come from the values (the date stays text) and it is said.
    let schema = sink.schema.clone().unwrap();
    assert_eq!(
        schema
            .field_with_name("event.duration")
            .unwrap()
            .data_type(),
        &DataType::Int64
    );
    assert_eq!(
        schema.field_with_name("@timestamp").unwrap().data_type(),
        &DataType::Utf8
    );
    assert!(sink
        .warnings()
        .iter()
        .any(|w| w.message.contains("mapping unavailable")));
}

#[tokio::test]
async fn opensearch_point_in_time_endpoints() {
    let fake = start(|s, _| match (s.method.as_str(), s.path.as_str()) {
        ("GET", "/logs-*/_mapping") => json(200, mapping()),
        ("POST", "/logs-*/_search/point_in_time") => json(
            200,
            j!({"pit_id": "os-pit", "_shards": {}, "creation_time": 1}),
        ),
        ("POST", "/_search") => json(200, page(&s.json(), false)),
        ("DELETE", "/_search/point_in_time") => json(
            200,
            j!({"pits": [{"successful": true, "pit_id": "os-pit"}]}),
        ),
        _ => json(404, j!({})),
    })
    .await;
    let c = client(
        &fake.url(),
        j!({"Flavor": "opensearch", "username": "analyst", "password": "os-Pass-123", "api_key": null}),
    );
    let mut sink = CollectSink::default();
    c.query(
        &EsQuery::parse(r#"{"index": "logs-*"}"#).unwrap(),
        &mut sink,
    )
    .await
    .unwrap();
    assert_eq!(sink.rows(), 5);
    let reqs = fake.requests();
    let search = reqs.iter().find(|r| r.path == "/_search").unwrap().json();
    assert_eq!(search["pit"]["id"], "os-pit");
    assert_eq!(search["sort"], j!([{"_id": "asc"}]));
    let del = reqs.iter().find(|r| r.method == "DELETE").unwrap();
    assert_eq!(del.path, "/_search/point_in_time");
    assert!(reqs[0]
        .header("authorization")
        .unwrap()
        .starts_with("Basic "));
}

#[tokio::test]
async fn elasticsearch_sql_follows_cursors_and_closes_one_left_open() {
    let fake = start(|s, _| {
        let body = s.json();
        match s.path.as_str() {
            "/_sql" if body.get("query").is_some() => json(200, j!({
                "columns": [{"name": "source.ip", "type": "ip"}, {"name": "n", "type": "long"}, {"name": "last", "type": "datetime"}, {"name": "ok", "type": "boolean"}],
                "rows": [["185.220.101.45", 312, "2026-06-30T10:11:12.345Z", true], ["45.148.10.92", 87, null, false]],
                "cursor": "c1"})),
            "/_sql" if body["cursor"] == "c1" => json(200, j!({"rows": [["91.240.118.172", 14, "2026-06-30T10:11:14Z", true], ["1.2.3.4", 1, null, null]], "cursor": "c2"})),
            "/_sql" => json(200, j!({"rows": [["5.6.7.8", 1, null, null]]})),
            "/_sql/close" => json(200, j!({"succeeded": true})),
            _ => json(404, j!({})),
        }
    })
    .await;
    let c = client(&fake.url(), j!({}));
    let q = EsQuery::parse("SELECT source.ip, COUNT(*) AS n FROM \"logs-*\" GROUP BY source.ip")
        .unwrap();
    let mut sink = CollectSink::default();
    let s = c.query(&q, &mut sink).await.unwrap();
    assert_eq!((s.rows, s.partial), (5, false));
    let reqs = fake.requests();
    assert_eq!(reqs[0].query_map()["format"], "json");
    assert_eq!(reqs[0].json()["fetch_size"], 2);
    assert_eq!(reqs[1].json(), j!({"cursor": "c1"}));
    assert!(!reqs.iter().any(|r| r.path == "/_sql/close"));
    let schema = sink.schema.clone().unwrap();
    assert_eq!(schema.field(1).data_type(), &DataType::Int64);
    assert!(matches!(
        schema.field(2).data_type(),
        DataType::Timestamp(_, _)
    ));
    assert_eq!(schema.field(3).data_type(), &DataType::Boolean);

    // Stopped by the row limit with a cursor open: the cursor is closed.
    let c = client(&fake.url(), j!({"MaxRows": 3}));
    let mut sink = CollectSink::default();
    let s = c.query(&q, &mut sink).await.unwrap();
    assert_eq!((s.rows, s.partial), (3, true));
    let closes: Vec<Value> = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/_sql/close")
        .map(|r| r.json())
        .collect();
    assert_eq!(closes, [j!({"cursor": "c2"})]);
}

#[tokio::test]
async fn opensearch_sql_schema_and_datarows() {
    let fake = start(|s, _| match s.path.as_str() {
        "/_plugins/_sql" => json(200, j!({"schema": [{"name": "source.ip", "type": "ip"}, {"name": "n", "type": "long"}, {"name": "t", "type": "timestamp"}],
            "datarows": [["185.220.101.45", 312, "2026-06-30 10:11:12.345"]], "total": 1, "size": 1, "status": 200})),
        _ => json(404, j!({})),
    })
    .await;
    let c = client(&fake.url(), j!({"Flavor": "OpenSearch"}));
    let mut sink = CollectSink::default();
    c.query(
        &EsQuery::parse("SELECT source.ip, COUNT(*) AS n FROM logs").unwrap(),
        &mut sink,
    )
    .await
    .unwrap();
    let b = &sink.batches[0];
    assert_eq!(
        b.column(2)
            .as_primitive::<TimestampNanosecondType>()
            .value(0),
        1_782_814_272_345_000_000
    );
    assert_eq!(
        fake.requests()[0].json()["query"],
        "SELECT source.ip, COUNT(*) AS n FROM logs"
    );
}

#[tokio::test]
async fn auth_failure_back_pressure_and_bad_requests() {
    let fake = start(|s, i| {
        if s.header("authorization").is_none() {
            return Reply::JsonWith(401, j!({"error": {"root_cause": [{"type": "security_exception", "reason": "missing authentication credentials for REST request [/_sql]"}],
                "type": "security_exception", "reason": "missing authentication credentials for REST request [/_sql]"}, "status": 401}),
                vec![("www-authenticate", "Basic realm=\"security\"".into())]);
        }
        if i == 1 {
            return json(429, j!({"error": {"type": "es_rejected_execution_exception", "reason": "rejected execution"}, "status": 429}));
        }
        if s.json()["query"] == "SELEC x" {
            return json(400, j!({"error": {"type": "parsing_exception", "reason": "line 1:1: mismatched input 'SELEC'"}, "status": 400}));
        }
        json(200, j!({"columns": [{"name": "a", "type": "keyword"}], "rows": [["x"]]}))
    })
    .await;
    let mut cfg = ElasticConfig::from_msticpy("Elastic", &j!({"url": fake.url()})).unwrap();
    cfg.http.retry.base_delay = Duration::from_millis(10);
    let anon = ElasticClient::new(cfg).unwrap();
    let err = anon
        .query(
            &EsQuery::parse("SELECT a FROM t").unwrap(),
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Auth { .. })
            && err
                .to_string()
                .contains("missing authentication credentials"),
        "{err}"
    );
    let c = client(&fake.url(), j!({}));
    let mut sink = CollectSink::default();
    c.query(&EsQuery::parse("SELECT a FROM t").unwrap(), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.rows(), 1);
    assert!(sink.events.iter().any(|e| matches!(
        e,
        QueryEvent::Retry {
            status: 429,
            from_retry_after: false,
            ..
        }
    )));
    let err = c
        .query(
            &EsQuery::parse("SELEC x").unwrap(),
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Upstream { status: 400, .. })
            && err.to_string().contains("mismatched input"),
        "{err}"
    );
}

#[test]
fn query_parsing_and_config_errors() {
    assert!(matches!(
        EsQuery::parse("SELECT 1").unwrap(),
        EsQuery::Sql { .. }
    ));
    assert!(EsQuery::parse("{not json")
        .unwrap_err()
        .to_string()
        .contains("not valid JSON"));
    assert!(EsQuery::parse("   ").is_err());
    let e = |v: Value| {
        ElasticConfig::from_msticpy("DataProviders.Elastic", &v)
            .unwrap_err()
            .to_string()
    };
    assert!(e(j!({"Args": {}})).contains("DataProviders.Elastic.Args.host"));
    assert!(e(j!({"Args": {"url": "ftp://x"}})).contains("scheme"));
    assert!(e(j!({"Args": {"url": "https://x", "Flavor": "solr"}})).contains("Flavor"));
    assert!(e(j!({"Args": {"url": "https://x", "index": "../_cluster"}})).contains("index"));
    assert!(e(j!({"Args": {"url": "https://x", "username": "u"}})).contains("password"));
    let ok = ElasticConfig::from_msticpy(
        "Elastic",
        &j!({"host": "es.example", "api_key_id": "id1", "api_key": "k3y-secret"}),
    )
    .unwrap();
    assert_eq!(ok.base_url, "https://es.example:9200");
    assert!(!format!("{ok:?}").contains("k3y-secret"));
}
