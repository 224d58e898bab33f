// Snapshots of keyed state (issue 5): the rows of a StateTable and the records of a
// ListStateTable as one self-contained byte string, and back. Rows and records are laid out by
// the compiler and hold pointers (strings, count_distinct sets) into their table's storage;
// a RowLayout names where, so that a snapshot carries the pointed-to values and a restore
// re-creates them in the new table's storage. Everything else in a row is copied as bytes.
// A restore checks every length against the input: damaged bytes give an error, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agg/agg_table.h"
#include "state/state_backend.h"

namespace flow {

// Appends every row of `table` (all namespaces) to `out`.
void snapshot_rows(const StateTable& table, const RowLayout& layout, std::string& out);
// Adds the rows of a snapshot to `table` (which should be empty). False with `error` set when
// the bytes are not such a snapshot or its row size differs from the table's; the table then
// holds part of it and is to be discarded.
bool restore_rows(std::string_view snapshot, const RowLayout& layout, StateTable& table, std::string& error);

// The same for the one table of an unwindowed aggregate.
void snapshot_agg_table(const flow_agg_table& table, const RowLayout& layout, std::string& out);
bool restore_agg_table(std::string_view snapshot, const RowLayout& layout, flow_agg_table& table, std::string& error);

// Incremental: the rows upserted since the table's clear_changes() (flow_agg_table change
// tracking), and applying such a delta on top of a restored table (its rows replace those
// of the same keys).
void snapshot_agg_changes(const flow_agg_table& table, const RowLayout& layout, std::string& out);
bool apply_agg_changes(std::string_view delta, const RowLayout& layout, flow_agg_table& table, std::string& error);

// The same for the records of a ListStateTable, kept in their order per key.
void snapshot_records(const ListStateTable& table, const RowLayout& layout, std::string& out);
bool restore_records(std::string_view snapshot, const RowLayout& layout, ListStateTable& table, std::string& error);

// One row's or record's value alone (its bytes and what its pointer slots point to): how the
// RocksDB backend stores it under its address. Decoding a row upserts `key` into `rows`;
// decoding a record appends it to (ns, key) of `table`.
void encode_row_value(const uint8_t* row, int64_t row_size, const RowLayout& layout, std::string& out);
bool decode_row_value(std::string_view value, const RowLayout& layout, flow_agg_table& rows, std::string_view key, std::string& error);
void encode_record_value(const uint8_t* record, int64_t size, const RowLayout& layout, std::string& out);
bool decode_record_value(std::string_view value, const RowLayout& layout, ListStateTable& table, int64_t ns, std::string_view key,
                         std::string& error);

}  // namespace flow
