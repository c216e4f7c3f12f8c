// The CSV reader: the bundled data read correctly, and every kind of bad input named precisely.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "host/csv_reader.h"

namespace {

using edgelstm::host::ColumnRequest;
using edgelstm::host::InputError;
using edgelstm::host::parse_table;

// The error message parse_table gives for `content`, or "" if it parses.
std::string error_for(const std::string& content, bool regular = true) {
  try {
    (void)parse_table(content, "meter.csv", "timestamp", {ColumnRequest{"demand_mw", true}}, regular);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(CsvReader, ReadsTheBundledTaylorSeries) {
  const auto table = edgelstm::host::read_table(EDGELSTM_SOURCE_DIR "/data/taylor_england_wales_halfhourly_demand_2000.csv",
                                               "timestamp", {ColumnRequest{"demand_mw", true}}, true);
  ASSERT_EQ(table.rows(), 4032u);
  EXPECT_EQ(table.numbers[0][0], 22262.0);
  EXPECT_EQ(table.numbers[0][1], 21756.0);
  EXPECT_EQ(table.times[1] - table.times[0], 1800);
  std::int64_t first = 0;
  ASSERT_TRUE(edgelstm::host::parse_timestamp("2000-06-05T00:00:00", &first));
  EXPECT_EQ(table.times[0], first);
  EXPECT_EQ(table.lines.back(), 4033);
}

TEST(CsvReader, ReadsTheBundledSeattleSeriesWithTextLabels) {
  const auto table = edgelstm::host::read_table(EDGELSTM_SOURCE_DIR "/data/seattle_weather_daily_2012_2015.csv", "date",
                                               {ColumnRequest{"temp_max", true}, ColumnRequest{"weather", false}}, true);
  ASSERT_EQ(table.rows(), 1461u);
  EXPECT_EQ(table.text[1][0], "drizzle");
  EXPECT_EQ(table.times[1] - table.times[0], 86400);
}

TEST(CsvReader, AcceptsCrLfAndTrailingNewlines) {
  EXPECT_EQ(error_for("timestamp,demand_mw\r\n2000-01-01T00:00,1\r\n2000-01-01T00:30,2\r\n\n"), "");
}

TEST(CsvReader, NamesFileLineColumnAndWhatWasExpected) {
  const std::string header = "timestamp,demand_mw\n";
  EXPECT_EQ(error_for(""), "meter.csv:1: the file is empty; expected a header line");
  EXPECT_EQ(error_for(header), "meter.csv:2: no data rows after the header");
  EXPECT_EQ(error_for("time,demand_mw\n2000-01-01T00:00,1\n"),
            "meter.csv:1: column 'timestamp': missing from the header 'time,demand_mw'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,abc\n"),
            "meter.csv:3: column 'demand_mw': expected a number, found 'abc'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,\n"),
            "meter.csv:3: column 'demand_mw': expected a number, found ''");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,nan\n"),
            "meter.csv:2: column 'demand_mw': expected a finite number, found 'nan'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1e999\n"),
            "meter.csv:2: column 'demand_mw': expected a number, found '1e999'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,inf\n"),
            "meter.csv:2: column 'demand_mw': expected a finite number, found 'inf'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1,7\n"),
            "meter.csv:2: expected 2 comma-separated cells as in the header, found 3");
  EXPECT_EQ(error_for(header + "2000-13-01T00:00,1\n"),
            "meter.csv:2: column 'timestamp': expected a timestamp YYYY-MM-DD[THH:MM[:SS]] or YYYY/MM/DD, found '2000-13-01T00:00'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:30,1\n2000-01-01T00:00,2\n"),
            "meter.csv:3: column 'timestamp': timestamps must increase; '2000-01-01T00:00' comes before the previous row's");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:00,2\n"),
            "meter.csv:3: column 'timestamp': duplicate timestamp '2000-01-01T00:00'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,2\n2000-01-01T01:30,3\n"),
            "meter.csv:4: column 'timestamp': gap in a regular series: expected a step of 1800 s, found 3600 s (at '2000-01-01T01:30')");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n\n2000-01-01T00:30,2\n"), "meter.csv:3: empty line inside the data");
  // Without the regularity requirement the gap is accepted.
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,2\n2000-01-01T01:30,3\n", false), "");
}

TEST(CsvReader, MissingFileIsNamed) {
  try {
    (void)edgelstm::host::read_table("no/such/file.csv", "timestamp", {}, true);
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "no/such/file.csv: cannot open the data file: No such file or directory");
  }
}

TEST(CsvReader, TimestampsFollowTheGregorianCalendar) {
  std::int64_t t = 0;
  ASSERT_TRUE(edgelstm::host::parse_timestamp("1970-01-01", &t));
  EXPECT_EQ(t, 0);
  ASSERT_TRUE(edgelstm::host::parse_timestamp("2000-02-29T12:00:01", &t));
  EXPECT_EQ(t, 951825601);
  EXPECT_FALSE(edgelstm::host::parse_timestamp("1900-02-29", &t));
  EXPECT_FALSE(edgelstm::host::parse_timestamp("2000-01-01T24:00", &t));
  EXPECT_FALSE(edgelstm::host::parse_timestamp("2000-01-01T00:00:00Z", &t));
}

TEST(CsvReader, ReadsTheBundledSgscHouseholdsWithSpaceSeparatedTimestamps) {
  // 50 meters, timestamps "2013-04-02 00:00" (a space, not a T), half-hourly, 58 days.
  const std::string path = EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv";
  const auto first = edgelstm::host::read_table(path, "timestamp", {ColumnRequest{"10006414", true}}, true);
  ASSERT_EQ(first.rows(), 58u * 48u);
  std::int64_t start = 0;
  ASSERT_TRUE(edgelstm::host::parse_timestamp("2013-04-02T00:00", &start));
  EXPECT_EQ(first.times.front(), start);
  EXPECT_EQ(first.times.back() - first.times.front(), (58 * 48 - 1) * 1800);
  EXPECT_DOUBLE_EQ(first.numbers[0][0], 0.076);
  EXPECT_DOUBLE_EQ(first.numbers[0][1], 0.072);
}

TEST(CsvReader, AcceptsAUtf8ByteOrderMark) {
  EXPECT_EQ(error_for("\xEF\xBB\xBFtimestamp,demand_mw\n2000-01-01T00:00,1\n"), "");
  // Anywhere else it is part of a name, and the message shows it as bytes.
  EXPECT_EQ(error_for("timestamp,\xEF\xBB\xBF" "demand_mw\n2000-01-01T00:00,1\n"),
            "meter.csv:1: column 'demand_mw': missing from the header 'timestamp,\\xEF\\xBB\\xBFdemand_mw'");
}

TEST(CsvReader, RefusesValuesOutsideAnySaneRangeWithTheLine) {
  const std::string header = "timestamp,demand_mw\n";
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,1e308\n"),
            "meter.csv:3: column 'demand_mw': expected a number within +-1e15, found '1e308'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,-2e39\n"),
            "meter.csv:2: column 'demand_mw': expected a number within +-1e15, found '-2e39'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1e15\n2000-01-01T00:30,-1e15\n"), "");
}

TEST(CsvReader, QuotesAtMostEightyBytesOfALongLine) {
  // A 10 MB line is refused at once with its length, and a long cell or header is quoted in part.
  const std::string line(10 << 20, 'x');
  const std::string long_line = error_for(line + "\n");
  EXPECT_EQ(long_line, "meter.csv:1: the line holds 10485760 bytes; lines may hold at most 64 KiB (it starts '" +
                           std::string(80, 'x') + "...' (10485760 bytes))");
  const std::string header(60000, 'h');
  const std::string missing = error_for(header + "\n2000-01-01T00:00\n");
  EXPECT_LT(missing.size(), 200u) << missing;
  EXPECT_NE(missing.find("missing from the header 'hhhh"), std::string::npos) << missing;
  const std::string cell = error_for("timestamp,demand_mw\n2000-01-01T00:00," + std::string(50000, '7') + "x\n");
  EXPECT_LT(cell.size(), 200u) << cell;
}

TEST(CsvReader, RefusesARepeatedColumn) {
  EXPECT_EQ(error_for("timestamp,demand_mw,demand_mw\n2000-01-01T00:00,1,2\n"),
            "meter.csv:1: column 'demand_mw': appears twice in the header (cells 2 and 3)");
}

// Reads `path` as a data file; the message, or "" when it was read.
std::string read_error(const std::string& path) {
  try {
    (void)edgelstm::host::read_table(path, "timestamp", {ColumnRequest{"demand_mw", true}}, true);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(CsvReader, RefusesAFifoADeviceAndADirectoryWithoutWaiting) {
  alarm(20);  // a reader that blocks on the FIFO fails here instead of hanging the test run
  const std::string fifo = testing::TempDir() + "/edgelstm_csv_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(read_error(fifo), fifo + ": the data file is a FIFO (named pipe), expected a regular file");
  std::remove(fifo.c_str());
  EXPECT_EQ(read_error("/dev/zero"), "/dev/zero: the data file is a character device, expected a regular file");
  EXPECT_EQ(read_error("/"), "/: the data file is a directory, expected a regular file");
  alarm(0);
}

TEST(CsvReader, RefusesAFileBeyondTheSizeLimitBeforeReadingIt) {
  // A sparse file: 1 byte past the limit without using the disk.
  const std::string path = testing::TempDir() + "/edgelstm_csv_large_" + std::to_string(getpid()) + ".csv";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(edgelstm::host::kMaxCsvBytes) + 1), 0);
  close(fd);
  EXPECT_EQ(read_error(path), path + ": the data file holds 268435457 bytes; at most 256 MiB are read");
  std::remove(path.c_str());
}

}  // namespace
