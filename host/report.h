// Plots for reports, drawn by gnuplot (Debian: gnuplot-nox) as SVG files.
#pragma once

#include <string>
#include <vector>

namespace edgelstm::host {

struct PlotSeries {
  std::string title;
  std::vector<double> x, y;
};

// Writes <directory>/<name>.svg: a line plot of the series (x on a logarithmic scale with `log_x`).
// Throws InputError when gnuplot is missing or fails (the message says how to install it).
void plot_lines(const std::string& directory, const std::string& name, const std::string& title,
                const std::string& x_label, const std::string& y_label, const std::vector<PlotSeries>& series,
                bool log_x = false);

// One number as printf's `pattern` writes it ("%.1f", "%.0f%%"), for the reports' tables.
std::string format(const char* pattern, double value);

}  // namespace edgelstm::host
