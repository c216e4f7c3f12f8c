// The gateway platform's storage: every meter reading in one SQLite table (Debian's libsqlite3),
// in WAL mode, keyed by (meter, interval start) so a reading that arrives twice (a meter's resend
// after a lost acknowledgement, a broker's redelivery) is stored once. Several gateway processes may
// write the same file (SQLite's locks serialize their transactions). The self-learning meters' daily
// summaries go in a second table.
//
//   CREATE TABLE readings (
//     meter_id       INTEGER NOT NULL,  -- the meter's number (MQTT user meter-<id>)
//     interval_start INTEGER NOT NULL,  -- seconds, the meter's clock, start of the half-hour
//     energy_wh      INTEGER NOT NULL,  -- what the meter's register counted in that interval
//     PRIMARY KEY (meter_id, interval_start)) WITHOUT ROWID;
//
// WITHOUT ROWID makes the table its own index (a B-tree clustered on the key): the per-meter range
// scans the gateway runs to forecast and train read consecutive pages, and no second copy of the
// key is stored. synchronous=FULL: a committed transaction survives a power cut of the gateway
// machine, so an acknowledgement sent after the commit is a promise the store keeps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace edgelstm::fleet {

struct StoredReading {
  std::int64_t meter_id = 0;
  std::int64_t interval_start = 0;
  std::int64_t energy_wh = 0;
};

struct DailySummaryRow {
  std::int64_t meter_id = 0, day_start = 0, energy_wh = 0, offpeak_energy_wh = 0, peak_reading_wh = 0;
  std::int64_t forecasts_scored = 0, refused_steps = 0, mae_mwh = 0, rmse_mwh = 0, checkpoint_sequence = 0;
};

class ReadingStore {
 public:
  // Opens (creating it and its tables when missing) the database at `path`. Throws
  // host::InputError naming the file when it cannot, or when it is not such a database.
  explicit ReadingStore(const std::string& path);
  ~ReadingStore();
  ReadingStore(const ReadingStore&) = delete;
  ReadingStore& operator=(const ReadingStore&) = delete;

  // One transaction around many inserts (a batch of messages): begin, insert..., commit.
  void begin();
  void commit();

  enum class Outcome { kInserted, kDuplicate, kConflict };
  // kDuplicate: the same reading was stored before (not stored again); kConflict: another value is
  // stored for that meter and interval (the first one is kept; the caller reports it).
  Outcome insert_reading(const StoredReading& reading);
  // A daily summary (replaces one of the same meter and day: a resend carries the same values).
  void insert_summary(const DailySummaryRow& summary);

  // Readings of one meter with from <= interval_start < to, in time order.
  std::vector<StoredReading> readings(std::int64_t meter_id, std::int64_t from, std::int64_t to);
  // Every meter's readings with from <= interval_start < to, by meter then time.
  std::vector<StoredReading> all_readings(std::int64_t from, std::int64_t to);
  // The interval_start of a meter's first stored reading, or -1 when it has none.
  std::int64_t first_reading(std::int64_t meter_id);
  std::int64_t reading_count();
  std::int64_t summary_count();
  std::vector<DailySummaryRow> summaries();

  // Bytes on disk: the database file, its WAL and shared-memory index.
  std::int64_t file_bytes() const;
  // Moves the WAL's pages into the database file (PRAGMA wal_checkpoint(TRUNCATE)).
  void checkpoint();
  // PRAGMA integrity_check: "ok" or SQLite's list of problems.
  std::string integrity_check();
  const std::string& path() const { return path_; }

 private:
  void execute(const char* sql);
  sqlite3_stmt* prepare(const char* sql);
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* lookup_ = nullptr;
  sqlite3_stmt* insert_summary_ = nullptr;
  sqlite3_stmt* range_ = nullptr;
  sqlite3_stmt* first_ = nullptr;
};

}  // namespace edgelstm::fleet
