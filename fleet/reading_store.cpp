#include "fleet/reading_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include "host/csv_reader.h"

namespace edgelstm::fleet {
namespace {

std::int64_t size_of(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<std::int64_t>(info.st_size) : 0;
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS readings ("
    " meter_id INTEGER NOT NULL, interval_start INTEGER NOT NULL, energy_wh INTEGER NOT NULL,"
    " PRIMARY KEY (meter_id, interval_start)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS daily_summaries ("
    " meter_id INTEGER NOT NULL, day_start INTEGER NOT NULL, energy_wh INTEGER NOT NULL,"
    " offpeak_energy_wh INTEGER NOT NULL, peak_reading_wh INTEGER NOT NULL, forecasts_scored INTEGER NOT NULL,"
    " refused_steps INTEGER NOT NULL, mae_mwh INTEGER NOT NULL, rmse_mwh INTEGER NOT NULL,"
    " checkpoint_sequence INTEGER NOT NULL, PRIMARY KEY (meter_id, day_start)) WITHOUT ROWID;";

}  // namespace

ReadingStore::ReadingStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw host::InputError(path + ": cannot open the reading store: " + message);
  }
  // Another gateway process may hold the write lock for a commit: wait for it rather than fail.
  sqlite3_busy_timeout(db_, 30000);
  try {
    execute("PRAGMA journal_mode=WAL");
    execute("PRAGMA synchronous=FULL");
    execute(kSchema);
    insert_ = prepare("INSERT OR IGNORE INTO readings (meter_id, interval_start, energy_wh) VALUES (?, ?, ?)");
    lookup_ = prepare("SELECT energy_wh FROM readings WHERE meter_id = ? AND interval_start = ?");
    insert_summary_ = prepare(
        "INSERT OR REPLACE INTO daily_summaries (meter_id, day_start, energy_wh, offpeak_energy_wh, peak_reading_wh,"
        " forecasts_scored, refused_steps, mae_mwh, rmse_mwh, checkpoint_sequence) VALUES (?,?,?,?,?,?,?,?,?,?)");
    first_ = prepare("SELECT MIN(interval_start) FROM readings WHERE meter_id = ?");
    range_ = prepare(
        "SELECT meter_id, interval_start, energy_wh FROM readings WHERE meter_id = ? AND interval_start >= ? AND"
        " interval_start < ? ORDER BY interval_start");
  } catch (...) {
    for (sqlite3_stmt* s : {insert_, lookup_, insert_summary_, range_, first_}) sqlite3_finalize(s);
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

ReadingStore::~ReadingStore() {
  for (sqlite3_stmt* s : {insert_, lookup_, insert_summary_, range_, first_}) sqlite3_finalize(s);
  sqlite3_close(db_);
}

void ReadingStore::fail(const std::string& what) const {
  throw host::InputError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

void ReadingStore::execute(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw host::InputError(path_ + ": " + std::string(sql).substr(0, 40) + "...: " + message);
  }
}

sqlite3_stmt* ReadingStore::prepare(const char* sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) fail("cannot prepare a statement");
  return statement;
}

void ReadingStore::begin() { execute("BEGIN IMMEDIATE"); }

void ReadingStore::commit() { execute("COMMIT"); }

ReadingStore::Outcome ReadingStore::insert_reading(const StoredReading& r) {
  sqlite3_reset(insert_);
  sqlite3_bind_int64(insert_, 1, r.meter_id);
  sqlite3_bind_int64(insert_, 2, r.interval_start);
  sqlite3_bind_int64(insert_, 3, r.energy_wh);
  if (sqlite3_step(insert_) != SQLITE_DONE) fail("cannot store a reading");
  sqlite3_reset(insert_);
  if (sqlite3_changes(db_) == 1) return Outcome::kInserted;
  sqlite3_reset(lookup_);
  sqlite3_bind_int64(lookup_, 1, r.meter_id);
  sqlite3_bind_int64(lookup_, 2, r.interval_start);
  if (sqlite3_step(lookup_) != SQLITE_ROW) fail("a reading the key refused is not there");
  const std::int64_t stored = sqlite3_column_int64(lookup_, 0);
  sqlite3_reset(lookup_);  // a statement left active would hold its read lock
  return stored == r.energy_wh ? Outcome::kDuplicate : Outcome::kConflict;
}

void ReadingStore::insert_summary(const DailySummaryRow& s) {
  sqlite3_reset(insert_summary_);
  const std::int64_t values[10] = {s.meter_id,         s.day_start,     s.energy_wh, s.offpeak_energy_wh,
                                   s.peak_reading_wh,  s.forecasts_scored, s.refused_steps,
                                   s.mae_mwh,          s.rmse_mwh,      s.checkpoint_sequence};
  for (int k = 0; k < 10; ++k) sqlite3_bind_int64(insert_summary_, k + 1, values[k]);
  if (sqlite3_step(insert_summary_) != SQLITE_DONE) fail("cannot store a daily summary");
  sqlite3_reset(insert_summary_);
}

std::vector<StoredReading> ReadingStore::readings(std::int64_t meter_id, std::int64_t from, std::int64_t to) {
  sqlite3_reset(range_);
  sqlite3_bind_int64(range_, 1, meter_id);
  sqlite3_bind_int64(range_, 2, from);
  sqlite3_bind_int64(range_, 3, to);
  std::vector<StoredReading> out;
  int rc;
  while ((rc = sqlite3_step(range_)) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int64(range_, 0), sqlite3_column_int64(range_, 1), sqlite3_column_int64(range_, 2)});
  }
  sqlite3_reset(range_);
  if (rc != SQLITE_DONE) fail("cannot read readings");
  return out;
}

std::vector<StoredReading> ReadingStore::all_readings(std::int64_t from, std::int64_t to) {
  sqlite3_stmt* s = prepare(
      "SELECT meter_id, interval_start, energy_wh FROM readings WHERE interval_start >= ? AND interval_start < ?"
      " ORDER BY meter_id, interval_start");
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int64(s, 2, to);
  std::vector<StoredReading> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)});
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) fail("cannot read readings");
  return out;
}

namespace {

std::int64_t single_integer(sqlite3* db, const char* sql, const std::string& path) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
    sqlite3_finalize(s);
    throw host::InputError(path + ": " + sql + ": " + sqlite3_errmsg(db));
  }
  const std::int64_t value = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return value;
}

}  // namespace

std::int64_t ReadingStore::first_reading(std::int64_t meter_id) {
  sqlite3_reset(first_);
  sqlite3_bind_int64(first_, 1, meter_id);
  if (sqlite3_step(first_) != SQLITE_ROW) fail("cannot read a meter's first reading");
  const std::int64_t first = sqlite3_column_type(first_, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(first_, 0);
  sqlite3_reset(first_);
  return first;
}

std::int64_t ReadingStore::reading_count() { return single_integer(db_, "SELECT COUNT(*) FROM readings", path_); }

std::int64_t ReadingStore::summary_count() {
  return single_integer(db_, "SELECT COUNT(*) FROM daily_summaries", path_);
}

std::vector<DailySummaryRow> ReadingStore::summaries() {
  sqlite3_stmt* s = prepare(
      "SELECT meter_id, day_start, energy_wh, offpeak_energy_wh, peak_reading_wh, forecasts_scored, refused_steps,"
      " mae_mwh, rmse_mwh, checkpoint_sequence FROM daily_summaries ORDER BY meter_id, day_start");
  std::vector<DailySummaryRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    DailySummaryRow r;
    std::int64_t* fields[10] = {&r.meter_id,        &r.day_start,     &r.energy_wh, &r.offpeak_energy_wh,
                                &r.peak_reading_wh, &r.forecasts_scored, &r.refused_steps,
                                &r.mae_mwh,         &r.rmse_mwh,      &r.checkpoint_sequence};
    for (int k = 0; k < 10; ++k) *fields[k] = sqlite3_column_int64(s, k);
    out.push_back(r);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) fail("cannot read daily summaries");
  return out;
}

std::int64_t ReadingStore::file_bytes() const {
  return size_of(path_) + size_of(path_ + "-wal") + size_of(path_ + "-shm");
}

void ReadingStore::checkpoint() { execute("PRAGMA wal_checkpoint(TRUNCATE)"); }

std::string ReadingStore::integrity_check() {
  sqlite3_stmt* s = prepare("PRAGMA integrity_check");
  std::string result;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (!result.empty()) result += "; ";
    result += reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  return result;
}

}  // namespace edgelstm::fleet
