//! Arrow IPC in and out, and typed column access shared by every huntglass engine.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

/// Errors raised while reading, writing or accessing Arrow data.
#[derive(Debug, thiserror::Error)]
pub enum HgArrowError {
    /// The bytes are not a valid Arrow IPC stream, or could not be written as one.
    #[error("Arrow IPC error: {0}")]
    Ipc(String),
}

/// Writes record batches as one Arrow IPC stream (the format pyarrow's `ipc.new_stream` writes).
pub fn write_ipc_stream(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, HgArrowError> {
    let mut out = Vec::new();
    {
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, schema)
            .map_err(|e| HgArrowError::Ipc(e.to_string()))?;
        for batch in batches {
            writer.write(batch).map_err(|e| HgArrowError::Ipc(e.to_string()))?;
        }
        writer.finish().map_err(|e| HgArrowError::Ipc(e.to_string()))?;
    }
    Ok(out)
}
