//! The kernel ABI called as the host calls it (natively: same functions, 64-bit addresses).

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use hg_kernel::{
    hg_abi_version, hg_alloc, hg_call, hg_free, hg_ops_list, hg_result_free, hg_result_len,
    hg_result_ptr, hg_result_status, host, STATUS_BAD_CALL, STATUS_OK, STATUS_OP_ERROR,
    STATUS_UNKNOWN_HANDLE,
};

fn put(data: &[u8]) -> (usize, usize) {
    let ptr = hg_alloc(data.len());
    assert_ne!(ptr, 0);
    assert!(host::write(ptr, data));
    (ptr, data.len())
}

fn text_table(values: &[&str]) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![Field::new("Text", DataType::Utf8, true)]));
    let array: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
    let batch = RecordBatch::try_new(schema.clone(), vec![array]).expect("batch");
    hg_arrow::write_ipc_stream(&schema, &[batch]).expect("ipc")
}

/// Calls an op through the ABI; returns (status, bytes) and frees everything.
fn call(name: &str, options: &str, input: &[u8]) -> (i32, Vec<u8>) {
    let parts = [put(name.as_bytes()), put(options.as_bytes()), put(input)];
    let handle = hg_call(
        parts[0].0, parts[0].1, parts[1].0, parts[1].1, parts[2].0, parts[2].1,
    );
    assert!(handle >= 1);
    let status = hg_result_status(handle);
    let bytes = host::result_bytes(handle).expect("result exists");
    assert_eq!(hg_result_len(handle), bytes.len());
    assert_ne!(hg_result_ptr(handle), 0);
    assert_eq!(hg_result_free(handle), 0);
    assert_eq!(hg_result_status(handle), STATUS_UNKNOWN_HANDLE);
    for (ptr, len) in parts {
        assert_eq!(hg_free(ptr, len), 0);
    }
    (status, bytes)
}

#[test]
fn version() {
    assert_eq!(hg_abi_version(), 1);
}

#[test]
fn extract_through_the_abi_equals_the_registry() {
    let input = text_table(&["c2 at hxxp://evil[.]com/x and 10.0.0.1"]);
    let options = r#"{"columns": ["Text"]}"#;
    let (status, bytes) = call("ioc.extract", options, &input);
    assert_eq!(status, STATUS_OK);
    let direct = hg_ops::Registry::standard()
        .call("ioc.extract", options.as_bytes(), &input)
        .expect("runs");
    assert_eq!(bytes, direct);
    let table = hg_arrow::read_ipc_stream(&bytes).expect("ipc");
    assert_eq!(table.num_rows(), 3);
}

#[test]
fn operation_errors_carry_the_message() {
    let input = text_table(&["x"]);
    let (status, bytes) = call("ioc.extract", r#"{"columns": ["Cmd"]}"#, &input);
    assert_eq!(status, STATUS_OP_ERROR);
    assert_eq!(
        String::from_utf8(bytes).expect("utf-8"),
        "ioc.extract: column 'Cmd' not found; available columns: Text"
    );
    let (status, bytes) = call("nope", "", &input);
    assert_eq!(status, STATUS_OP_ERROR);
    assert!(String::from_utf8(bytes)
        .expect("utf-8")
        .starts_with("unknown operation 'nope'"));
}

#[test]
fn bad_ranges_are_refused_not_read() {
    let (ptr, len) = put(b"ioc.extract");
    let bad = [
        (ptr + 1, len, "name"),      // runs past the end
        (ptr, len + 1, "name"),      // longer than the buffer
        (12345, 3, "name"),          // not a buffer at all
        (usize::MAX - 1, 8, "name"), // would overflow
    ];
    for (p, l, what) in bad {
        let handle = hg_call(p, l, 0, 0, 0, 0);
        assert_eq!(hg_result_status(handle), STATUS_BAD_CALL);
        let message = String::from_utf8(host::result_bytes(handle).expect("bytes")).expect("utf-8");
        assert!(
            message.contains(what) && message.contains("not inside a buffer"),
            "{message}"
        );
        assert_eq!(hg_result_free(handle), 0);
    }
    // A range inside a buffer (not at its start) is fine.
    let (whole, whole_len) = put(b"xxioc.type_ofyy");
    let handle = hg_call(whole + 2, whole_len - 4, 0, 0, 0, 0);
    assert_eq!(
        hg_result_status(handle),
        STATUS_OP_ERROR,
        "reached the op (no input)"
    );
    assert_eq!(hg_result_free(handle), 0);
    // A name that is not UTF-8.
    let (bad_name, bad_len) = put(&[0xff, 0xfe]);
    let handle = hg_call(bad_name, bad_len, 0, 0, 0, 0);
    assert_eq!(hg_result_status(handle), STATUS_BAD_CALL);
    assert_eq!(hg_result_free(handle), 0);
    for (p, l) in [(ptr, len), (whole, whole_len), (bad_name, bad_len)] {
        assert_eq!(hg_free(p, l), 0);
    }
}

#[test]
fn frees_are_checked() {
    let ptr = hg_alloc(16);
    assert_eq!(hg_free(ptr, 15), -1, "wrong length is refused");
    assert_eq!(hg_free(ptr + 1, 16), -1, "not a buffer start");
    assert_eq!(hg_free(ptr, 16), 0);
    assert_eq!(hg_free(ptr, 16), -1, "double free is refused");
    assert!(
        !host::write(ptr, b"x"),
        "freed buffer is no longer writable"
    );
    assert_eq!(hg_result_free(0), -1);
    assert_eq!(hg_result_status(u32::MAX), STATUS_UNKNOWN_HANDLE);
    assert_eq!(hg_result_len(u32::MAX), 0);
    // Zero-length buffers still get distinct addresses.
    let (a, b) = (hg_alloc(0), hg_alloc(0));
    assert!(a != 0 && b != 0 && a != b);
    assert_eq!(hg_free(a, 0), 0);
    assert_eq!(hg_free(b, 0), 0);
}

#[test]
fn ops_list_is_json() {
    let handle = hg_ops_list();
    assert_eq!(hg_result_status(handle), STATUS_OK);
    let listing: serde_json::Value =
        serde_json::from_slice(&host::result_bytes(handle).expect("bytes")).expect("json");
    assert_eq!(listing["operations"][0]["name"], "ioc.extract");
    assert_eq!(hg_result_free(handle), 0);
}
