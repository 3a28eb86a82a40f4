//! Parent linking and the forest: nodes, parents, children, tree order and the utilities.

use crate::FastMap;

use hg_arrow::Table;

use crate::input::{names_match, read_times, IdColumn, IdInterner, NameInfo, NameTable, RawId};
use crate::schema::ProcSchema;
use crate::{BuildOptions, ProcTreeError, SchemaChoice, MAX_CANDIDATES, MAX_DEPTH, MAX_ROWS};

/// No node.
pub(crate) const NONE: u32 = u32::MAX;

/// Tolerance when a child records its parent's creation time (Defender): 1 ms.
const PARENT_TIME_TOLERANCE_NS: i64 = 1_000_000;

/// A parent that the events name but do not contain.
#[derive(Debug, Clone)]
pub(crate) struct Placeholder {
    /// Its id as the first child wrote it.
    pub(crate) id: Option<RawId>,
    /// Its name as the first child wrote it (`None` when the schema has no parent name).
    pub(crate) name: Option<String>,
    /// The input row of its first child (for copying the host value).
    pub(crate) first_child_row: u32,
}

/// A process forest built from process-creation events.
///
/// Nodes `0..processes()` are the kept input rows (in input order); the rest are placeholder
/// parents. A node's `source_index` is its input row, or `input_rows + k` for the k-th
/// placeholder.
#[derive(Debug, Clone)]
pub struct ProcessForest {
    pub(crate) schema: ProcSchema,
    pub(crate) input_rows: usize,
    /// Input row of each kept process.
    pub(crate) rows: Vec<u32>,
    pub(crate) placeholders: Vec<Placeholder>,
    pub(crate) parent: Vec<u32>,
    pub(crate) orphan: Vec<bool>,
    /// Ordering time (ns; `i64::MIN` for a process without a time; a placeholder takes its
    /// earliest child's).
    pub(crate) time: Vec<i64>,
    pub(crate) time_valid: Vec<bool>,
    pub(crate) child_start: Vec<u32>,
    pub(crate) child_list: Vec<u32>,
    pub(crate) roots: Vec<u32>,
    /// Pre-order (roots by time, children by time).
    pub(crate) order: Vec<u32>,
    /// Depth of each node in `order` (by position).
    pub(crate) order_depth: Vec<u32>,
    /// Position in `order` of the parent of each node in `order` (`NONE` for roots).
    pub(crate) order_parent: Vec<u32>,
    /// Number of children of each node in `order`.
    pub(crate) order_children: Vec<u32>,
    pub(crate) depth: Vec<u32>,
    pub(crate) name_lc: Vec<Option<u32>>,
    pub(crate) names: NameTable,
    pub(crate) duplicates: usize,
    pub(crate) filtered: usize,
}

impl ProcessForest {
    /// The schema used (resolved against the input's columns).
    pub fn schema(&self) -> &ProcSchema {
        &self.schema
    }

    /// Number of nodes: processes plus placeholders.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether the forest has no node.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Number of input processes kept (after the event filter and duplicate removal).
    pub fn processes(&self) -> usize {
        self.rows.len()
    }

    /// Number of placeholder parents.
    pub fn placeholders(&self) -> usize {
        self.placeholders.len()
    }

    /// Input rows dropped as exact duplicates of an earlier event.
    pub fn duplicates_dropped(&self) -> usize {
        self.duplicates
    }

    /// Input rows dropped by the schema's event filter (not process creations).
    pub fn filtered_out(&self) -> usize {
        self.filtered
    }

    /// The input row of a process node (`None` for a placeholder).
    pub fn input_row(&self, node: usize) -> Option<usize> {
        self.rows.get(node).map(|r| *r as usize)
    }

    /// The node's `source_index`: its input row, or `input_rows + k` for placeholder k.
    pub fn source_index(&self, node: usize) -> usize {
        match self.rows.get(node) {
            Some(r) => *r as usize,
            None => self.input_rows + (node - self.rows.len()),
        }
    }

    /// The node with this `source_index`, if any.
    pub fn node_of_source_index(&self, source_index: usize) -> Option<usize> {
        if source_index >= self.input_rows {
            let k = source_index - self.input_rows;
            return (k < self.placeholders.len()).then(|| self.rows.len() + k);
        }
        // Rows are kept in input order, so a binary search finds the node.
        self.rows.binary_search(&(source_index as u32)).ok()
    }

    /// Whether the node is a placeholder parent.
    pub fn is_placeholder(&self, node: usize) -> bool {
        node >= self.rows.len()
    }

    /// Whether the process names a parent the events do not contain (a placeholder stands in
    /// for it unless `infer_parents` is off), or its parent link was cut to break a cycle.
    pub fn is_orphan(&self, node: usize) -> bool {
        self.orphan[node]
    }

    /// The parent node.
    pub fn parent(&self, node: usize) -> Option<usize> {
        let p = self.parent[node];
        (p != NONE).then_some(p as usize)
    }

    /// The children, oldest first.
    pub fn children(&self, node: usize) -> &[u32] {
        &self.child_list[self.child_start[node] as usize..self.child_start[node + 1] as usize]
    }

    /// The roots, oldest first.
    pub fn roots(&self) -> &[u32] {
        &self.roots
    }

    /// All nodes in tree order (pre-order: each root, then its subtrees oldest first).
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Number of ancestors (0 for a root).
    pub fn depth(&self, node: usize) -> usize {
        self.depth[node] as usize
    }

    /// The ordering time of a node (ns), `None` for a process without a time and for a
    /// placeholder (its real creation time is unknown).
    pub fn time_ns(&self, node: usize) -> Option<i64> {
        (node < self.rows.len() && self.time_valid[node]).then(|| self.time[node])
    }

    /// The root of the node's tree.
    pub fn root(&self, node: usize) -> usize {
        let mut n = node;
        while let Some(p) = self.parent(n) {
            n = p;
        }
        n
    }

    /// The ancestors from the parent up to the root.
    pub fn ancestors(&self, node: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut n = node;
        while let Some(p) = self.parent(n) {
            out.push(p);
            n = p;
        }
        out
    }

    /// The descendants in tree order, at most `max_levels` levels down (`None`: all).
    pub fn descendants(&self, node: usize, max_levels: Option<usize>) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<(u32, usize)> =
            self.children(node).iter().rev().map(|&c| (c, 1)).collect();
        while let Some((n, level)) = stack.pop() {
            out.push(n as usize);
            if max_levels.is_none_or(|m| level < m) {
                stack.extend(
                    self.children(n as usize)
                        .iter()
                        .rev()
                        .map(|&c| (c, level + 1)),
                );
            }
        }
        out
    }

    /// The other children of the node's parent, oldest first (other roots for a root).
    pub fn siblings(&self, node: usize) -> Vec<usize> {
        let pool: &[u32] = match self.parent(node) {
            Some(p) => self.children(p),
            None => &self.roots,
        };
        pool.iter()
            .map(|&n| n as usize)
            .filter(|&n| n != node)
            .collect()
    }
}

fn resolve_schema(table: &Table, choice: &SchemaChoice) -> Result<ProcSchema, ProcTreeError> {
    let columns = table.column_names();
    match choice {
        SchemaChoice::Detect => ProcSchema::detect(&columns),
        SchemaChoice::Named(name) => ProcSchema::named(name)?.resolve(&columns),
        SchemaChoice::Mapping(map) => ProcSchema::from_mapping(map)?.resolve(&columns),
        SchemaChoice::Schema(schema) => schema.resolve(&columns),
    }
}

/// Which rows the schema's event filter keeps.
fn event_filter(table: &Table, schema: &ProcSchema) -> Result<Option<Vec<bool>>, ProcTreeError> {
    let (Some(column), Some(value)) = (&schema.event_id_column, &schema.event_id_identifier) else {
        return Ok(None);
    };
    let value = value.trim();
    let data_type = table.data_type(column)?;
    if crate::input::is_text(data_type) {
        let texts = table.strings(column)?;
        return Ok(Some(
            (0..texts.len())
                .map(|row| texts.get(row).is_some_and(|t| t.trim() == value))
                .collect(),
        ));
    }
    if data_type.is_integer() || data_type.is_floating() {
        let wanted: Option<f64> = value.parse().ok();
        let numbers = table.numbers_f64(column)?;
        return Ok(Some(
            numbers
                .iter()
                .map(|&v| wanted.is_some_and(|w| v == w))
                .collect(),
        ));
    }
    let cats = table.categorize(column)?;
    let matching: Vec<bool> = cats
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| cats.missing != Some(i as u32) && l.trim() == value)
        .collect();
    Ok(Some(
        cats.codes.iter().map(|&c| matching[c as usize]).collect(),
    ))
}

/// A code per row for the host column (equal values, equal codes; nulls share one code).
fn host_codes(table: &Table, schema: &ProcSchema, n: usize) -> Result<Vec<u32>, ProcTreeError> {
    let Some(column) = &schema.host else {
        return Ok(vec![0; n]);
    };
    if !crate::input::is_text(table.data_type(column)?) {
        return Ok(table.categorize(column)?.codes);
    }
    let texts = table.strings(column)?;
    let mut codes_of: FastMap<Option<&str>, u32> = FastMap::default();
    Ok((0..texts.len())
        .map(|row| {
            let next = codes_of.len() as u32;
            *codes_of.entry(texts.get(row)).or_insert(next)
        })
        .collect())
}

fn fnv(text: Option<&str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    match text {
        None => 0,
        Some(t) => {
            for b in t.bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            h | 1
        }
    }
}

/// Builds the forest (see the crate documentation for the rules).
pub fn build_forest(table: &Table, options: &BuildOptions) -> Result<ProcessForest, ProcTreeError> {
    let schema = resolve_schema(table, &options.schema)?;
    let n_input = table.num_rows();
    if n_input > MAX_ROWS {
        return Err(ProcTreeError::Limit(format!(
            "{n_input} rows (at most {MAX_ROWS} process events)"
        )));
    }
    let names_col = table.strings(&schema.process_name)?;
    let pid_col = IdColumn::read(table, &schema.process_id)?;
    let ppid_col = IdColumn::read(table, &schema.parent_id)?;
    let times = read_times(table, &schema.time_stamp)?;
    let parent_times = match &schema.parent_time {
        Some(c) => Some(read_times(table, c)?),
        None => None,
    };
    let parent_names_col = match &schema.parent_name {
        Some(c) => Some(table.strings(c)?),
        None => None,
    };
    let cmd_col = match &schema.cmd_line {
        Some(c) if crate::input::is_text(table.data_type(c)?) => Some(table.strings(c)?),
        _ => None,
    };
    let keep = event_filter(table, &schema)?;
    let hosts = if options.match_host {
        host_codes(table, &schema, n_input)?
    } else {
        vec![0; n_input]
    };

    let mut names = NameTable::default();
    let name_info = names.intern_column(&names_col);
    let parent_info: Option<Vec<Option<NameInfo>>> =
        parent_names_col.as_ref().map(|c| names.intern_column(c));
    let mut interner = IdInterner::default();

    // Kept rows in input order.
    let mut rows: Vec<u32> = Vec::with_capacity(n_input);
    let mut filtered = 0usize;
    for row in 0..n_input {
        if keep.as_ref().is_some_and(|k| !k[row]) {
            filtered += 1;
            continue;
        }
        rows.push(row as u32);
    }
    let pid: Vec<Option<u64>> = rows
        .iter()
        .map(|&r| pid_col.key(r as usize, &mut interner))
        .collect();
    let ppid: Vec<Option<u64>> = rows
        .iter()
        .map(|&r| ppid_col.key(r as usize, &mut interner))
        .collect();
    let time: Vec<i64> = rows
        .iter()
        .map(|&r| times[r as usize].unwrap_or(i64::MIN))
        .collect();

    // Candidate parents grouped by (host, id): one hash look-up per process gives its group,
    // a counting sort by group keeps input order inside a group, and a group whose times are
    // not already ascending is sorted by (time, node). Each group is then one time-ordered run
    // of `cand` (`group_start[g]..group_start[g + 1]`), found for a child by one look-up.
    let mut group_of: FastMap<(u32, u64), u32> = FastMap::default();
    let mut group: Vec<u32> = vec![NONE; rows.len()];
    for (i, (g, p)) in group.iter_mut().zip(&pid).enumerate() {
        if let Some(p) = *p {
            let next = group_of.len() as u32;
            *g = *group_of.entry((hosts[rows[i] as usize], p)).or_insert(next);
        }
    }
    let n_groups = group_of.len();
    let mut group_start = vec![0u32; n_groups + 1];
    for &g in &group {
        if g != NONE {
            group_start[g as usize + 1] += 1;
        }
    }
    for g in 0..n_groups {
        group_start[g + 1] += group_start[g];
    }
    let mut cand: Vec<(i64, u32)> = vec![(0, 0); group_start[n_groups] as usize];
    {
        let mut fill = group_start.clone();
        for (i, &g) in group.iter().enumerate() {
            if g != NONE {
                cand[fill[g as usize] as usize] = (time[i], i as u32);
                fill[g as usize] += 1;
            }
        }
    }
    for g in 0..n_groups {
        let run = &mut cand[group_start[g] as usize..group_start[g + 1] as usize];
        if !run.windows(2).all(|w| w[0] <= w[1]) {
            run.sort_unstable();
        }
    }
    drop(group);

    // Exact duplicates (same host, id, time, name, parent id and command line) are adjacent.
    let mut duplicate = vec![false; rows.len()];
    let mut duplicates = 0usize;
    let same_event = |a: usize, b: usize| {
        let (ra, rb) = (rows[a] as usize, rows[b] as usize);
        name_info[ra] == name_info[rb]
            && ppid[a] == ppid[b]
            && cmd_col
                .as_ref()
                .is_none_or(|c| fnv(c.get(ra)) == fnv(c.get(rb)) && c.get(ra) == c.get(rb))
    };
    for g in 0..n_groups {
        let run = &cand[group_start[g] as usize..group_start[g + 1] as usize];
        let mut start = 0;
        while start < run.len() {
            let mut end = start + 1;
            while end < run.len() && run[end].0 == run[start].0 {
                end += 1;
            }
            for j in start + 1..end {
                let b = run[j].1 as usize;
                if (start..j)
                    .rev()
                    .take(MAX_CANDIDATES)
                    .any(|i| !duplicate[run[i].1 as usize] && same_event(run[i].1 as usize, b))
                {
                    duplicate[b] = true;
                    duplicates += 1;
                }
            }
            start = end;
        }
    }
    if duplicates > 0 {
        // Compact every group in place, keeping the group boundaries.
        let mut write = 0usize;
        let mut read_start = 0usize;
        for g in 0..n_groups {
            let read_end = group_start[g + 1] as usize;
            group_start[g] = write as u32;
            for r in read_start..read_end {
                if !duplicate[cand[r].1 as usize] {
                    cand[write] = cand[r];
                    write += 1;
                }
            }
            read_start = read_end;
        }
        group_start[n_groups] = write as u32;
        cand.truncate(write);
    }
    let run_of = |host: u32, id: u64| -> &[(i64, u32)] {
        match group_of.get(&(host, id)) {
            Some(&g) => {
                &cand[group_start[g as usize] as usize..group_start[g as usize + 1] as usize]
            }
            None => &[],
        }
    };

    let process_name = |i: usize| name_info[rows[i] as usize];
    let mut parent = vec![NONE; rows.len()];
    let mut orphan = vec![false; rows.len()];
    let mut placeholders: Vec<Placeholder> = Vec::new();
    let mut placeholder_of: FastMap<(u32, u64, u32, i64), u32> = FastMap::default();

    for c in 0..rows.len() {
        if duplicate[c] {
            continue;
        }
        let Some(p) = ppid[c] else { continue };
        let row = rows[c] as usize;
        let host = hosts[row];
        let wanted: Option<NameInfo> = parent_info.as_ref().and_then(|v| v[row]);
        let name_ok = |j: usize| match wanted {
            None => true,
            Some(w) => process_name(j).is_some_and(|n| names_match(n, w)),
        };
        let run = run_of(host, p);
        let known_parent_time = parent_times.as_ref().and_then(|t| t[row]);
        let mut found = NONE;
        if let Some(pt) = known_parent_time {
            let lo = run.partition_point(|x| x.0 < pt.saturating_sub(PARENT_TIME_TOLERANCE_NS));
            let mut best: Option<(u64, u32)> = None;
            for x in run[lo..].iter().take(MAX_CANDIDATES) {
                if x.0 > pt.saturating_add(PARENT_TIME_TOLERANCE_NS) {
                    break;
                }
                let j = x.1 as usize;
                if j != c && name_ok(j) {
                    let gap = x.0.abs_diff(pt);
                    if best.is_none_or(|(g, _)| gap < g) {
                        best = Some((gap, x.1));
                    }
                }
            }
            if let Some((_, j)) = best {
                found = j;
            }
        } else {
            let hi = run.partition_point(|x| x.0 <= time[c]);
            for x in run[..hi].iter().rev().take(MAX_CANDIDATES) {
                let j = x.1 as usize;
                if j != c && name_ok(j) {
                    found = x.1;
                    break;
                }
            }
        }
        if found != NONE {
            parent[c] = found;
            continue;
        }
        orphan[c] = true;
        if !options.infer_parents {
            continue;
        }
        let name_key = wanted.map_or(NONE, |w| w.full);
        let key = (host, p, name_key, known_parent_time.unwrap_or(i64::MIN));
        let k = *placeholder_of.entry(key).or_insert_with(|| {
            placeholders.push(Placeholder {
                id: ppid_col.raw(row),
                name: parent_names_col
                    .as_ref()
                    .and_then(|col| col.get(row))
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
                first_child_row: row as u32,
            });
            (placeholders.len() - 1) as u32
        });
        parent[c] = (rows.len() + k as usize) as u32;
    }

    // Drop duplicate rows from the node set (renumbering nodes).
    let (rows, name_lc, time, time_valid, parent, orphan) = if duplicates == 0 {
        let name_lc: Vec<Option<u32>> = rows
            .iter()
            .map(|&r| name_info[r as usize].map(|n| n.full))
            .collect();
        let time_valid: Vec<bool> = rows.iter().map(|&r| times[r as usize].is_some()).collect();
        (rows, name_lc, time, time_valid, parent, orphan)
    } else {
        let mut new_index = vec![NONE; rows.len()];
        let mut next = 0u32;
        for (i, slot) in new_index.iter_mut().enumerate() {
            if !duplicate[i] {
                *slot = next;
                next += 1;
            }
        }
        let kept = next as usize;
        let remap = |p: u32| -> u32 {
            if p == NONE {
                NONE
            } else if (p as usize) < rows.len() {
                new_index[p as usize]
            } else {
                (kept + (p as usize - rows.len())) as u32
            }
        };
        let mut r2 = Vec::with_capacity(kept);
        let mut nl = Vec::with_capacity(kept);
        let mut t2 = Vec::with_capacity(kept);
        let mut tv = Vec::with_capacity(kept);
        let mut p2 = Vec::with_capacity(kept);
        let mut o2 = Vec::with_capacity(kept);
        for i in 0..rows.len() {
            if duplicate[i] {
                continue;
            }
            let row = rows[i] as usize;
            r2.push(rows[i]);
            nl.push(name_info[row].map(|n| n.full));
            t2.push(time[i]);
            tv.push(times[row].is_some());
            p2.push(remap(parent[i]));
            o2.push(orphan[i]);
        }
        (r2, nl, t2, tv, p2, o2)
    };

    let n_real = rows.len();
    let total = n_real + placeholders.len();
    let mut parent = parent;
    parent.resize(total, NONE);
    let mut orphan = orphan;
    orphan.resize(total, false);
    let mut time = time;
    let mut time_valid = time_valid;
    time.resize(total, i64::MAX);
    time_valid.resize(total, false);
    for c in 0..n_real {
        let p = parent[c] as usize;
        if parent[c] != NONE && p >= n_real && time[c] < time[p] {
            time[p] = time[c];
        }
    }
    let mut name_lc = name_lc;
    for ph in &placeholders {
        name_lc.push(ph.name.as_deref().map(|n| names.intern(n).full));
    }

    break_cycles(&mut parent, &mut orphan);

    // Children lists sorted by (time, source index); roots likewise.
    let sort_key = |n: u32| -> (i64, usize) {
        let si = if (n as usize) < n_real {
            rows[n as usize] as usize
        } else {
            n_input + (n as usize - n_real)
        };
        (time[n as usize], si)
    };
    let mut counts = vec![0u32; total + 1];
    for &p in &parent {
        if p != NONE {
            counts[p as usize] += 1;
        }
    }
    let mut child_start = vec![0u32; total + 1];
    for i in 0..total {
        child_start[i + 1] = child_start[i] + counts[i];
    }
    let mut fill = child_start.clone();
    let mut child_list = vec![0u32; child_start[total] as usize];
    let mut roots = Vec::new();
    for (node, &p) in parent.iter().enumerate() {
        if p == NONE {
            roots.push(node as u32);
        } else {
            child_list[fill[p as usize] as usize] = node as u32;
            fill[p as usize] += 1;
        }
    }
    for i in 0..total {
        let s = &mut child_list[child_start[i] as usize..child_start[i + 1] as usize];
        if s.len() > 1 {
            s.sort_unstable_by_key(|&n| sort_key(n));
        }
    }
    roots.sort_unstable_by_key(|&n| sort_key(n));

    // Pre-order with depths. The stack carries each node's depth and its parent's position in
    // the order, so the output columns read them sequentially (`order_depth`,
    // `order_parent`, `order_children`) instead of looking them up node by node.
    let mut order = Vec::with_capacity(total);
    let mut order_depth: Vec<u32> = Vec::with_capacity(total);
    let mut order_parent: Vec<u32> = Vec::with_capacity(total);
    let mut order_children: Vec<u32> = Vec::with_capacity(total);
    let mut depth = vec![0u32; total];
    let mut stack: Vec<(u32, u32, u32)> = roots.iter().rev().map(|&r| (r, 0, NONE)).collect();
    while let Some((n, d, parent_position)) = stack.pop() {
        if d as usize > MAX_DEPTH {
            let row = if (n as usize) < n_real {
                rows[n as usize] as usize
            } else {
                n_input
            };
            return Err(ProcTreeError::Limit(format!(
                "process tree deeper than {MAX_DEPTH} levels (at input row {row}); the parent \
                 ids probably form a chain that is not a real process ancestry"
            )));
        }
        let position = order.len() as u32;
        depth[n as usize] = d;
        order.push(n);
        order_depth.push(d);
        order_parent.push(parent_position);
        let (s, e) = (
            child_start[n as usize] as usize,
            child_start[n as usize + 1] as usize,
        );
        order_children.push((e - s) as u32);
        stack.extend(child_list[s..e].iter().rev().map(|&c| (c, d + 1, position)));
    }
    debug_assert_eq!(order.len(), total);

    Ok(ProcessForest {
        schema,
        input_rows: n_input,
        rows,
        placeholders,
        parent,
        orphan,
        time,
        time_valid,
        child_start,
        child_list,
        roots,
        order,
        order_depth,
        order_parent,
        order_children,
        depth,
        name_lc,
        names,
        duplicates,
        filtered,
    })
}

/// Cuts one link of every parent cycle (possible only among events with equal times): the node
/// where a walk up the parents meets itself becomes a root and is marked orphan.
fn break_cycles(parent: &mut [u32], orphan: &mut [bool]) {
    // 0 = unvisited, 1 = on the current walk, 2 = done.
    let mut state = vec![0u8; parent.len()];
    let mut walk = Vec::new();
    for start in 0..parent.len() {
        if state[start] != 0 {
            continue;
        }
        walk.clear();
        let mut n = start as u32;
        loop {
            if n == NONE || state[n as usize] == 2 {
                break;
            }
            if state[n as usize] == 1 {
                parent[n as usize] = NONE;
                orphan[n as usize] = true;
                break;
            }
            state[n as usize] = 1;
            walk.push(n);
            n = parent[n as usize];
        }
        for &w in &walk {
            state[w as usize] = 2;
        }
    }
}
