#include "model_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "csv_reader.h"

namespace edgelstm::cli {

std::vector<std::uint8_t> serialize_model(const ModelFile& model) {
  std::vector<ModelTensor> extras;
  for (const auto& [name, values] : model.floats) {
    ModelTensor t;
    t.name = name.c_str();
    t.data = values.data();
    t.count = static_cast<std::uint32_t>(values.size());
    extras.push_back(t);
  }
  for (const auto& [name, text] : model.texts) {
    ModelTensor t;
    t.name = name.c_str();
    t.type = TensorType::kText;
    t.data = text.data();
    t.count = static_cast<std::uint32_t>(text.size());
    extras.push_back(t);
  }
  const Span<const ModelTensor> extra_span(extras.data(), extras.size());
  std::vector<std::uint8_t> bytes(model_file_bytes(model.spec, extra_span));
  std::size_t written = 0;
  const Status status = write_model(model.spec, Span<const float>(model.parameters.data(), model.parameters.size()),
                                    extra_span, Span<std::uint8_t>(bytes.data(), bytes.size()), &written);
  if (status != Status::kOk) throw InputError(std::string("cannot encode the model: ") + status_name(status));
  bytes.resize(written);
  return bytes;
}

void save_model(const ModelFile& model, const std::string& path) {
  const std::vector<std::uint8_t> bytes = serialize_model(model);
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(path + ": cannot create " + temporary + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      throw InputError(path + ": write failed: " + reason);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw InputError(path + ": cannot flush the model to disk: " + reason);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw InputError(path + ": cannot replace the file: " + reason);
  }
}

ModelFile load_model(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(path + ": cannot open the model file");
  std::ostringstream content;
  content << file.rdbuf();
  const std::string data = content.str();
  // A 4-byte aligned copy: read_model reads floats in place.
  std::vector<std::uint32_t> storage((data.size() + 3) / 4);
  std::memcpy(storage.data(), data.data(), data.size());
  ModelView view;
  const Status status =
      read_model(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(storage.data()), data.size()), &view);
  if (status != Status::kOk) throw InputError(path + ": " + status_name(status));
  ModelFile model;
  model.spec = view.spec();
  model.parameters.assign(view.parameters().begin(), view.parameters().end());
  const std::size_t parameter_tensors = 4 * model.spec.num_layers + 2;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(storage.data());
  for (std::size_t k = parameter_tensors; k < view.tensor_count(); ++k) {
    const char* name = reinterpret_cast<const char*>(bytes + kModelHeaderBytes + k * kModelTableEntryBytes);
    ModelTensor tensor;
    if (view.tensor(name, &tensor) != Status::kOk) throw InputError(path + ": unreadable tensor table");
    if (tensor.type == TensorType::kText) {
      model.texts[name].assign(static_cast<const char*>(tensor.data), tensor.count);
    } else {
      const auto* values = static_cast<const float*>(tensor.data);
      model.floats[name].assign(values, values + tensor.count);
    }
  }
  return model;
}

}  // namespace edgelstm::cli
