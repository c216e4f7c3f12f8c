#include "host/report.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "host/csv_reader.h"

namespace edgelstm::host {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}
namespace {

// Text inside a gnuplot single-quoted string: a quote is written twice.
std::string quoted_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out;
}

}  // namespace

void plot_lines(const std::string& directory, const std::string& name, const std::string& title,
                const std::string& x_label, const std::string& y_label, const std::vector<PlotSeries>& series,
                bool log_x) {
  const std::string data = directory + "/" + name + ".dat";
  const std::string script = directory + "/" + name + ".gp";
  {
    std::ofstream out(data);
    for (std::size_t s = 0; s < series.size(); ++s) {
      out << "# " << series[s].title << "\n";
      for (std::size_t k = 0; k < series[s].x.size(); ++k) out << series[s].x[k] << " " << series[s].y[k] << "\n";
      out << "\n\n";  // gnuplot data block separator (index s)
    }
    if (!out) throw InputError(data + ": cannot write the plot data");
  }
  {
    std::ofstream out(script);
    out << "set terminal svg size 960,420 dynamic background rgb 'white' font 'sans,11'\n"
        << "set termoption noenhanced\n"
        << "set output '" << directory << "/" << name << ".svg'\n"
        << "set title '" << quoted_text(title) << "'\nset xlabel '" << quoted_text(x_label) << "'\nset ylabel '"
        << quoted_text(y_label) << "'\n"
        << "set grid\nset key outside right top\n" << (log_x ? "set logscale x 10\n" : "") << "plot ";
    for (std::size_t s = 0; s < series.size(); ++s) {
      out << (s ? ", " : "") << "'" << data << "' index " << s << " using 1:2 with lines lw 1.5 title '"
          << quoted_text(series[s].title) << "'";
    }
    out << "\n";
  }
  const std::string command = "gnuplot '" + script + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw InputError("cannot run gnuplot (Debian: sudo apt-get install gnuplot-nox)");
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (status != 0) {
    throw InputError("gnuplot failed for " + script + (output.empty() ? "" : ": " + output) +
                     " (is it installed? Debian: sudo apt-get install gnuplot-nox)");
  }
}

}  // namespace edgelstm::host
