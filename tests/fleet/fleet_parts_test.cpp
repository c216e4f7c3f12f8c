// The fleet's parts without a broker: the SQLite reading store (one row per meter and interval,
// duplicates and conflicting values told apart, WAL, integrity, a foreign file refused), the emulated
// NOR flash, the meter's reading log (acknowledgement bits, read back at boot, a torn record
// ignored, overwritten readings counted), topics and the ACL's users, the data loader's errors, the
// gateway's statistics file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "fleet/file_flash.h"
#include "fleet/fleet_protocol.h"
#include "fleet/fleet_run.h"
#include "fleet/gateway.h"
#include "fleet/reading_log.h"
#include "fleet/reading_store.h"
#include "host/csv_reader.h"

namespace {

using namespace edgelstm;
using namespace edgelstm::fleet;

std::string scratch(const std::string& name) {
  const std::string path = ::testing::TempDir() + "edgelstm_fleet_parts_" + name + "_" + std::to_string(::getpid());
  std::system(("rm -rf '" + path + "' '" + path + "-wal' '" + path + "-shm'").c_str());
  return path;
}

TEST(ReadingStore, StoresEachMeterIntervalOnceAndTellsDuplicatesFromConflicts) {
  const std::string path = scratch("store.sqlite");
  {
    ReadingStore store(path);
    store.begin();
    EXPECT_EQ(store.insert_reading({7, 1000, 250}), ReadingStore::Outcome::kInserted);
    EXPECT_EQ(store.insert_reading({7, 2800, 300}), ReadingStore::Outcome::kInserted);
    EXPECT_EQ(store.insert_reading({8, 1000, 10}), ReadingStore::Outcome::kInserted);
    EXPECT_EQ(store.insert_reading({7, 1000, 250}), ReadingStore::Outcome::kDuplicate);  // a resend
    EXPECT_EQ(store.insert_reading({7, 1000, 999}), ReadingStore::Outcome::kConflict);   // another value
    store.commit();
    EXPECT_EQ(store.reading_count(), 3);
    EXPECT_EQ(store.first_reading(7), 1000);
    EXPECT_EQ(store.first_reading(9), -1);
    const auto rows = store.readings(7, 0, 5000);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].energy_wh, 250);  // the first value is kept
    EXPECT_EQ(rows[1].interval_start, 2800);
    EXPECT_EQ(store.all_readings(0, 2000).size(), 2u);
    store.insert_summary({7, 0, 5000, 2000, 400, 48, 0, 150000, 290000, 3});
    store.insert_summary({7, 0, 5000, 2000, 400, 48, 0, 150000, 290000, 3});  // a resend replaces it
    EXPECT_EQ(store.summary_count(), 1);
    EXPECT_EQ(store.integrity_check(), "ok");
    EXPECT_GT(store.file_bytes(), 0);
  }
  // Reopened (a gateway restart): the rows are there, the mode is WAL.
  ReadingStore again(path);
  EXPECT_EQ(again.reading_count(), 3);
  std::ifstream header(path, std::ios::binary);
  char bytes[20] = {};
  header.read(bytes, sizeof bytes);
  EXPECT_EQ(bytes[18], 2) << "file format write version 2 = WAL";
}

TEST(ReadingStore, AFileThatIsNotADatabaseIsRefusedByName) {
  const std::string path = scratch("not_a_database.sqlite");
  std::ofstream(path) << "timestamp,demand\n2000-01-01,1\n";
  try {
    ReadingStore store(path);
    FAIL() << "opened a CSV file as a reading store";
  } catch (const host::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(FileFlash, ProgrammingOnlyClearsBitsAndAPowerCutStopsMidWrite) {
  const std::string path = scratch("flash.bin");
  FileFlash flash(path, 8192, 4096);
  std::uint8_t byte = 0;
  ASSERT_EQ(flash.read(10, Span<std::uint8_t>(&byte, 1)), Status::kOk);
  EXPECT_EQ(byte, 0xFF);  // a new chip is erased
  const std::uint8_t first = 0xF0, second = 0x3C;
  ASSERT_EQ(flash.program(10, Span<const std::uint8_t>(&first, 1)), Status::kOk);
  ASSERT_EQ(flash.program(10, Span<const std::uint8_t>(&second, 1)), Status::kOk);
  ASSERT_EQ(flash.read(10, Span<std::uint8_t>(&byte, 1)), Status::kOk);
  EXPECT_EQ(byte, 0x30);  // NOR: 0xF0 & 0x3C
  const std::uint8_t data[4] = {1, 2, 3, 4};
  flash.cut_power_after(2);
  EXPECT_EQ(flash.program(100, Span<const std::uint8_t>(data, 4)), Status::kFlashError);
  std::uint8_t back[4];
  ASSERT_EQ(flash.read(100, Span<std::uint8_t>(back, 4)), Status::kOk);
  EXPECT_EQ(back[1], 2);
  EXPECT_EQ(back[2], 0xFF);  // not reached
  flash.cut_power_after(FileFlash::kNoPowerCut);
  EXPECT_EQ(flash.erase(1, 4096), Status::kInvalidArgument);
  ASSERT_EQ(flash.erase(0, 4096), Status::kOk);
  ASSERT_EQ(flash.read(10, Span<std::uint8_t>(&byte, 1)), Status::kOk);
  EXPECT_EQ(byte, 0xFF);
  // The file keeps it (another object on the same file: a reboot).
  ASSERT_EQ(flash.program(5000, Span<const std::uint8_t>(data, 4)), Status::kOk);
  FileFlash rebooted(path, 8192, 4096);
  ASSERT_EQ(rebooted.read(5000, Span<std::uint8_t>(back, 4)), Status::kOk);
  EXPECT_EQ(back[3], 4);
  EXPECT_THROW(FileFlash(path, 4096, 4096), host::InputError);  // another size: not this chip
}

TEST(ReadingLog, KeepsReadingsUntilAcknowledgedAndReadsThemBackAtBoot) {
  const std::string path = scratch("log.bin");
  FileFlash flash(path, 2 * 4096, 4096);
  const std::uint32_t t0 = 1364860800;
  {
    ReadingLog log(flash, 0, 2, 1800);
    EXPECT_TRUE(log.empty());
    for (std::uint32_t k = 0; k < 5; ++k) ASSERT_EQ(log.append(t0 + k * 1800, 100 + k, k == 0 ? kNoForecast : 90 * k), Status::kOk);
    EXPECT_EQ(log.append(t0, 1), Status::kInvalidArgument);  // not newer
    ASSERT_EQ(log.acknowledge(t0 + 1800), Status::kOk);
    ASSERT_EQ(log.acknowledge_summary(t0 + 4 * 1800), Status::kOk);
    EXPECT_EQ(log.unacknowledged().size(), 4u);
  }
  // A torn record: a reading whose write was cut keeps the CRC from matching.
  std::uint8_t garbage[8] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  const std::size_t slot = ((t0 + 5 * 1800) / 1800) % 256;
  ASSERT_EQ(flash.program(slot * ReadingLog::kRecordBytes, Span<const std::uint8_t>(garbage, 8)), Status::kOk);
  ReadingLog booted(flash, 0, 2, 1800);
  EXPECT_EQ(booted.newest(), t0 + 4 * 1800);
  const auto pending = booted.unacknowledged();
  ASSERT_EQ(pending.size(), 4u);
  EXPECT_EQ(pending[0].timestamp, t0);
  EXPECT_EQ(pending[1].timestamp, t0 + 2 * 1800);
  LoggedReading r;
  ASSERT_TRUE(booted.find(t0 + 3 * 1800, &r));
  EXPECT_EQ(r.energy_wh, 103u);
  EXPECT_EQ(r.forecast_mwh, 270u);
  ASSERT_TRUE(booted.find(t0 + 4 * 1800, &r));
  EXPECT_TRUE(r.summary_acknowledged);
  EXPECT_FALSE(r.acknowledged);
  EXPECT_EQ(booted.since(t0 + 2 * 1800).size(), 2u);
}

TEST(ReadingLog, CountsReadingsTheRingOverwroteBeforeTheirAcknowledgement) {
  const std::string path = scratch("ring.bin");
  FileFlash flash(path, 2 * 4096, 4096);
  ReadingLog log(flash, 0, 2, 1800);  // 256 records
  const std::uint32_t t0 = 1364860800 - (1364860800 / 1800 % 256) * 1800;  // slot 0
  for (std::uint32_t k = 0; k < 256 + 10; ++k) ASSERT_EQ(log.append(t0 + k * 1800, k), Status::kOk);
  // Reading 256 reused sector 0: its 128 readings, none acknowledged, are gone.
  EXPECT_EQ(log.overwritten_unacknowledged(), 128u);
  EXPECT_EQ(log.unacknowledged().size(), 128u + 10u);
}

TEST(FleetProtocol, TopicsUsersAndTheAccessList) {
  std::int64_t id = 0;
  std::string kind;
  EXPECT_TRUE(parse_meter_topic("meters/10006414/readings", &id, &kind));
  EXPECT_EQ(id, 10006414);
  EXPECT_EQ(kind, "readings");
  EXPECT_FALSE(parse_meter_topic("meters/+/readings", &id, &kind));
  EXPECT_FALSE(parse_meter_topic("meters/12/readings/extra", &id, &kind));
  EXPECT_FALSE(parse_meter_topic("other/12/readings", &id, &kind));
  EXPECT_FALSE(parse_meter_topic("meters/12/", &id, &kind));
  EXPECT_FALSE(parse_meter_topic("meters//readings", &id, &kind));
  EXPECT_EQ(gateway_subscriptions("g")[0], "$share/g/meters/+/readings");
  EXPECT_EQ(gateway_subscriptions("")[1], "meters/+/summary");
  const auto users = fleet_broker_users({{5, "p5"}, {6, "p6"}}, "pg", "pm");
  ASSERT_EQ(users.size(), 4u);
  EXPECT_EQ(users[0].name, "meter-5");
  ASSERT_EQ(users[0].topics.size(), 3u);
  EXPECT_EQ(users[0].topics[0].access, "write");
  EXPECT_EQ(users[0].topics[0].pattern, "meters/5/readings");
  EXPECT_EQ(users[0].topics[2].access, "read");
  EXPECT_EQ(users[0].topics[2].pattern, "meters/5/forecast");
  EXPECT_EQ(users[3].topics[0].pattern, "$SYS/#");
  EXPECT_NE(random_password(), random_password());
  const std::string credentials = scratch("credentials");
  write_credentials(credentials, "gateway", "secret");
  std::string user, password;
  read_credentials(credentials, &user, &password);
  EXPECT_EQ(user, "gateway");
  EXPECT_EQ(password, "secret");
}

TEST(FleetData, LoadsTheBundledMetersAndRefusesBadFiles) {
  const FleetData data = load_fleet_data(EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv", 0);
  ASSERT_EQ(data.meter_ids.size(), 50u);
  EXPECT_EQ(data.meter_ids[0], 10006414);
  EXPECT_EQ(data.steps(), 2784u);
  EXPECT_EQ(data.interval_seconds, 1800u);
  EXPECT_FLOAT_EQ(data.readings[0][0], 0.076f);
  // More meters than columns: the columns again, shifted by whole days.
  const FleetData more = load_fleet_data(EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv", 60);
  ASSERT_EQ(more.meter_ids.size(), 60u);
  EXPECT_EQ(more.meter_ids[55], 90000055);
  EXPECT_FLOAT_EQ(more.readings[55][0], more.readings[5][48]);
  const std::string bad = scratch("bad.csv");
  std::ofstream(bad) << "timestamp,101,abc\n2013-04-02 00:00,1,2\n2013-04-02 00:30,1,2\n";
  try {
    load_fleet_data(bad, 0);
    FAIL();
  } catch (const host::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":1: column 3 'abc' is not a meter id"), std::string::npos) << e.what();
  }
  std::ofstream(bad) << "timestamp,101\n2013-04-02 00:00,1\n2013-04-02 00:30,-1\n";
  try {
    load_fleet_data(bad, 0);
    FAIL();
  } catch (const host::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":3: column '101': a meter reading cannot be negative"), std::string::npos)
        << e.what();
  }
}

TEST(GatewayStats, RoundTripAndABadLineIsNamed) {
  GatewayStats s;
  s.messages = 12;
  s.readings_inserted = 10;
  s.ingest_cpu_seconds = 0.25;
  s.trainings.push_back({86400, 100, 4, 1.5, 1.7, 96, 40960});
  const std::string path = scratch("gateway.stats");
  write_gateway_stats(s, path);
  const GatewayStats back = read_gateway_stats(path);
  EXPECT_EQ(back.messages, 12u);
  EXPECT_EQ(back.readings_inserted, 10u);
  EXPECT_DOUBLE_EQ(back.ingest_cpu_seconds, 0.25);
  ASSERT_EQ(back.trainings.size(), 1u);
  EXPECT_EQ(back.trainings[0].database_bytes, 40960);
  std::ofstream(path, std::ios::app) << "surprise 3\n";
  try {
    read_gateway_stats(path);
    FAIL();
  } catch (const host::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":24: unexpected line 'surprise 3'"), std::string::npos) << e.what();
  }
}

}  // namespace
