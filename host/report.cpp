#include "host/report.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "host/child_process.h"
#include "host/input_error.h"
#include "host/output_file.h"

namespace edgelstm::host {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}
namespace {

// A gnuplot single-quoted string: a quote is written twice, control characters (which would
// end the command) become spaces.
std::string gnuplot_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "''";
    } else {
      quoted += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return quoted + "'";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void plot_lines(const std::string& directory, const std::string& name, const std::string& title,
                const std::string& x_label, const std::string& y_label, const std::vector<PlotSeries>& series,
                bool log_x) {
  const std::string base = directory + "/" + name;
  std::ostringstream data;
  for (std::size_t s = 0; s < series.size(); ++s) {
    data << "# " << gnuplot_quoted(series[s].title) << "\n";
    for (std::size_t k = 0; k < series[s].x.size(); ++k) data << series[s].x[k] << " " << series[s].y[k] << "\n";
    data << "\n\n";  // gnuplot data block separator (index s)
  }
  write_file_atomically(base + ".dat", data.str());
  // The script names its files relative to itself, so `gnuplot NAME.gp` in the directory redraws
  // the plot; this run sets `output` to a temporary that is renamed over NAME.svg when gnuplot
  // succeeds, so a failed plot leaves the old SVG.
  std::ostringstream script;
  script << "set terminal svg size 960,420 dynamic background rgb 'white' font 'sans,11'\n"
         << "set termoption noenhanced\n"
         << "if (!exists('output')) output = " << gnuplot_quoted(name + ".svg") << "\n"
         << "set output output\n"
         << "set title " << gnuplot_quoted(title) << "\nset xlabel " << gnuplot_quoted(x_label) << "\nset ylabel "
         << gnuplot_quoted(y_label) << "\nset grid\nset key outside right top\n" << (log_x ? "set logscale x 10\n" : "")
         << "plot ";
  for (std::size_t s = 0; s < series.size(); ++s) {
    script << (s ? ", " : "") << gnuplot_quoted(name + ".dat") << " index " << s << " using 1:2 with lines lw 1.5 title "
           << gnuplot_quoted(series[s].title);
  }
  script << "\n";
  write_file_atomically(base + ".gp", script.str());
  const std::string temporary = base + ".svg.tmp-" + std::to_string(::getpid()) + "-plot";
  const std::string log = temporary + "-log";
  int status = -1;
  try {
    // gnuplot runs in the directory (through `cd` in its -e, so relative names resolve there);
    // no shell is involved, so no name can become a command.
    status = run_program({"gnuplot", "-e", "cd " + gnuplot_quoted(directory) + "; output = " + gnuplot_quoted(temporary.substr(directory.size() + 1)),
                          name + ".gp"},
                         log, 120);
  } catch (const InputError&) {
    std::remove(log.c_str());
    throw InputError("cannot run gnuplot for " + base + ".svg (Debian: sudo apt-get install gnuplot-nox)");
  }
  const std::string output = read_text(log);
  std::remove(log.c_str());
  if (status != 0 || std::rename(temporary.c_str(), (base + ".svg").c_str()) != 0) {
    std::remove(temporary.c_str());
    throw InputError("gnuplot failed for " + base + ".gp" + (output.empty() ? "" : ": " + output.substr(0, 400)) +
                     " (is it installed? Debian: sudo apt-get install gnuplot-nox)");
  }
}

}  // namespace edgelstm::host
