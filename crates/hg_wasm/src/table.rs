//! A columnar reader of Arrow IPC streams for widgets.
//!
//! [`ArrowTable`] reads one Arrow IPC stream (a data set a widget received, or the output of an
//! operation run by the engines' own wasm module, `hg_kernel`) and hands JavaScript whole
//! columns at a time (`Float64Array` numbers, string categories as labels plus `Uint32Array`
//! codes) or single cells (`text`), so a widget pays one boundary crossing per column rather
//! than per value, and long texts stay in wasm memory until a row is shown.
//!
//! The operations themselves (`hg_ops`) are not linked here: the browser runs them in
//! `hg_kernel.wasm`, loaded only by the widgets that need operations (see `js/src/runtime/kernel.ts`),
//! so this module stays within its size budget and a Timeline never pays for the engines. Nor
//! does it write Arrow IPC (the writer alone was 99 KB of this module): widgets only read what
//! Python, the standalone host or an operation hands them.
//!
//! Input limits: those of `hg_arrow::read_ipc_stream` (rows, columns, decoded bytes, pre-flight
//! checks) for every IPC stream read here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use hg_arrow::{StringColumn, Table};
use wasm_bindgen::prelude::*;

use crate::js_error;

/// A decoded Arrow IPC stream whose columns JavaScript reads a whole column at a time.
#[wasm_bindgen]
pub struct ArrowTable {
    table: Table,
    /// String accessors made on first use (a dictionary column decodes its keys once).
    strings: RefCell<HashMap<String, Rc<StringColumn>>>,
}

#[wasm_bindgen]
impl ArrowTable {
    /// Reads one Arrow IPC stream (with `hg_arrow`'s read limits).
    #[wasm_bindgen(constructor)]
    pub fn new(ipc: &[u8]) -> Result<ArrowTable, JsError> {
        Ok(ArrowTable {
            table: hg_arrow::read_ipc_stream(ipc).map_err(js_error)?,
            strings: RefCell::new(HashMap::new()),
        })
    }

    fn strings(&self, column: &str) -> Result<Rc<StringColumn>, JsError> {
        if let Some(found) = self.strings.borrow().get(column) {
            return Ok(Rc::clone(found));
        }
        let made = Rc::new(self.table.strings(column).map_err(js_error)?);
        self.strings
            .borrow_mut()
            .insert(column.to_string(), Rc::clone(&made));
        Ok(made)
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.table.num_rows()
    }

    /// The column names, in schema order.
    pub fn column_names(&self) -> Vec<String> {
        self.table.column_names()
    }

    /// A numeric column (any integer or float type) as `Float64Array`, nulls as NaN.
    pub fn numbers(&self, column: &str) -> Result<Vec<f64>, JsError> {
        self.table.numbers_f64(column).map_err(js_error)
    }

    /// A string column's sorted distinct values and each row's index into them:
    /// `[labels: string[], codes: Uint32Array, missing: number]` where `missing` is the code of
    /// null rows (-1 when no row is null; its label is `(missing)`).
    pub fn categorize(&self, column: &str) -> Result<js_sys::Array, JsError> {
        // Check the type first: categorize() also accepts numbers and times.
        self.strings(column)?;
        let categories = self.table.categorize(column).map_err(js_error)?;
        let labels: js_sys::Array = categories
            .labels
            .iter()
            .map(|label| JsValue::from_str(label))
            .collect();
        let codes = js_sys::Uint32Array::from(categories.codes.as_slice());
        let missing = categories.missing.map_or(-1.0, f64::from);
        Ok(js_sys::Array::of3(
            &labels,
            &codes,
            &JsValue::from_f64(missing),
        ))
    }

    /// The text of one cell of a string column; `undefined` for null. A row past the end is an
    /// error naming the row count.
    pub fn text(&self, column: &str, row: usize) -> Result<Option<String>, JsError> {
        if row >= self.table.num_rows() {
            return Err(JsError::new(&format!(
                "column '{column}': row {row} is out of range (the table has {} rows)",
                self.table.num_rows()
            )));
        }
        Ok(self.strings(column)?.get(row).map(str::to_string))
    }

    /// The texts of rows `start..end` of a string column (clamped to the table), nulls as
    /// `undefined`: one call per visible window of rows.
    pub fn texts(&self, column: &str, start: usize, end: usize) -> Result<js_sys::Array, JsError> {
        let strings = self.strings(column)?;
        let end = end.min(self.table.num_rows());
        Ok((start.min(end)..end)
            .map(|row| match strings.get(row) {
                Some(text) => JsValue::from_str(text),
                None => JsValue::UNDEFINED,
            })
            .collect())
    }
}
