// Structure-aware mutation of edgelstm model files for libFuzzer (LLVMFuzzerCustomMutator): byte
// mutations alone almost never get past the CRC-32, so most mutations here change the file as a
// structure — a tensor's values (NaN, Inf, huge, a lag of -999999999 in the feature settings), a
// table field, a spec field — and then write the file again with its size and CRC recomputed, so
// what the reader meets is a well-sealed file with bad content. One mutation in eight is a plain
// byte mutation left unsealed, for the checksum and header paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "edgelstm/crc32.h"
#include "edgelstm/model_format.h"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace edgelstm::fuzz {

struct TableTensor {
  std::string name;
  std::uint8_t type = 0;
  std::uint32_t count = 0, cols = 0;
  std::vector<std::uint8_t> data;
};

inline std::uint32_t load_u32(const std::uint8_t* p) { return detail::get_u32(p); }

// The header and tensors of `bytes` when its table can be read (entries inside the buffer, data
// ranges inside it); false otherwise.
inline bool parse_tensors(const std::uint8_t* bytes, std::size_t size, std::vector<std::uint8_t>* header,
                          std::vector<TableTensor>* tensors) {
  if (size < kModelHeaderBytes || std::memcmp(bytes, "ELSTMMDL", 8) != 0) return false;
  const std::size_t count = load_u32(bytes + 40);
  if (count > kMaxModelTensors || kModelHeaderBytes + count * kModelTableEntryBytes > size) return false;
  header->assign(bytes, bytes + kModelHeaderBytes);
  tensors->clear();
  for (std::size_t k = 0; k < count; ++k) {
    const std::uint8_t* entry = bytes + kModelHeaderBytes + k * kModelTableEntryBytes;
    TableTensor t;
    t.name.assign(reinterpret_cast<const char*>(entry), strnlen(reinterpret_cast<const char*>(entry), 31));
    t.type = entry[32];
    t.count = load_u32(entry + 36);
    t.cols = load_u32(entry + 44);
    const std::size_t offset = load_u32(entry + 40);
    if (t.type > 5) return false;
    const bool quantized = t.type >= 2 && t.type <= 4;
    if (quantized && (t.cols == 0 || t.count % t.cols != 0)) return false;
    const std::size_t length = detail::tensor_bytes(static_cast<TensorType>(t.type), t.count, t.cols);
    if (offset > size || length > size - offset) return false;
    t.data.assign(bytes + offset, bytes + offset + length);
    tensors->push_back(std::move(t));
  }
  return true;
}

// Writes the tensors as write_model_tensors lays them out, with size and CRC; 0 if they do not
// fit in max_size.
inline std::size_t write_tensors(const std::vector<std::uint8_t>& header, const std::vector<TableTensor>& tensors,
                                 std::uint8_t* out, std::size_t max_size) {
  std::size_t offset = (kModelHeaderBytes + tensors.size() * kModelTableEntryBytes + 15) / 16 * 16;
  std::size_t total = offset;
  for (const TableTensor& t : tensors) total = detail::align4(total) + t.data.size();
  total = detail::align4(total);
  if (total > max_size) return 0;
  std::memset(out, 0, total);
  std::memcpy(out, header.data(), kModelHeaderBytes);
  detail::put_u32(out + 12, static_cast<std::uint32_t>(total));
  detail::put_u32(out + 40, static_cast<std::uint32_t>(tensors.size()));
  std::uint8_t* entry = out + kModelHeaderBytes;
  for (const TableTensor& t : tensors) {
    offset = detail::align4(offset);
    std::memcpy(entry, t.name.data(), t.name.size());
    entry[32] = t.type;
    detail::put_u32(entry + 36, t.count);
    detail::put_u32(entry + 40, static_cast<std::uint32_t>(offset));
    detail::put_u32(entry + 44, t.cols);
    if (!t.data.empty()) std::memcpy(out + offset, t.data.data(), t.data.size());
    offset += t.data.size();
    entry += kModelTableEntryBytes;
  }
  detail::put_u32(out + 16, crc32_update(0, out + 20, total - 20));
  return total;
}

// Size field = the buffer's size, CRC over it: a file whose bytes "arrived".
inline void reseal(std::uint8_t* data, std::size_t size) {
  if (size < kModelHeaderBytes || std::memcmp(data, "ELSTMMDL", 8) != 0) return;
  detail::put_u32(data + 12, static_cast<std::uint32_t>(size));
  detail::put_u32(data + 16, crc32_update(0, data + 20, size - 20));
}

// The feature settings "window=12;lags=48,336;calendar=1;interval=1800" with one value replaced by
// one a careless tool or a hostile file might hold (keeping the number of lags, so the settings
// still match the network's input size and reach the code that uses them), or a key repeated
// or dropped.
inline std::string perturb_features(const std::string& text, unsigned pick) {
  static const char* const kValues[] = {"-999999999", "-99", "-1", "0", "1", "2", "2147483647", "2147483648",
                                        "99999999999", "", "x", "48abc", "+5", "1000000", "1000001", "86400", "7"};
  constexpr unsigned kCount = sizeof kValues / sizeof *kValues;
  std::vector<std::string> items;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(';', start), text.size());
    items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::string& item = items[pick % items.size()];
  const std::size_t eq = item.find('=');
  const unsigned how = (pick / 8) % 8;
  if (how == 0) {
    items.push_back(item);  // a key twice
  } else if (how == 1 && items.size() > 1) {
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(pick % items.size()));
  } else if (eq != std::string::npos) {
    const std::string key = item.substr(0, eq + 1);
    std::string value = item.substr(eq + 1);
    if (key == "lags=" && !value.empty()) {  // one lag of the list
      std::vector<std::string> lags;
      for (std::size_t start = 0; start <= value.size();) {
        const std::size_t end = std::min(value.find(',', start), value.size());
        lags.push_back(value.substr(start, end - start));
        start = end + 1;
      }
      lags[(pick / 64) % lags.size()] = kValues[(pick / 256) % kCount];
      value.clear();
      for (std::size_t k = 0; k < lags.size(); ++k) value += (k ? "," : "") + lags[k];
    } else {
      value = kValues[(pick / 64) % kCount];
    }
    item = key + value;
  }
  std::string joined;
  for (std::size_t k = 0; k < items.size(); ++k) joined += (k ? ";" : "") + items[k];
  return joined;
}

inline std::size_t mutate_model(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  const unsigned choice = seed % 8;
  if (choice == 0) return LLVMFuzzerMutate(data, size, max_size);  // unsealed bytes
  std::vector<std::uint8_t> header;
  std::vector<TableTensor> tensors;
  if (choice <= 2 || !parse_tensors(data, size, &header, &tensors) || tensors.empty()) {
    const std::size_t mutated = LLVMFuzzerMutate(data, size, max_size);
    reseal(data, mutated);
    return mutated;
  }
  const unsigned pick = seed / 8;
  TableTensor& t = tensors[pick % tensors.size()];
  switch (choice) {
    case 3: {  // a special value into a float or int32 tensor, or new bytes into any other
      if ((t.type == 0 || t.type == 5) && t.data.size() >= 4) {
        static const std::uint32_t kFloatBits[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu, 0x00000001u,
                                                   0x80000000u, 0x00000000u, 0xBF800000u, 0x5F000000u};
        static const std::uint32_t kIntBits[] = {0u, 0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu, 31u, 32u, 63u, 64u};
        const std::uint32_t value = t.type == 0 ? kFloatBits[(pick / 64) % 9] : kIntBits[(pick / 64) % 8];
        detail::put_u32(t.data.data() + 4 * ((pick / 8) % (t.data.size() / 4)), value);
      } else if (!t.data.empty()) {
        t.data[(pick / 8) % t.data.size()] ^= static_cast<std::uint8_t>(1u << ((pick / 4) % 8));
      }
      break;
    }
    case 4: {  // a text tensor's bytes (feature settings perturbed, or mutated: its length may change);
               // another tensor's bytes mutated in place
      const std::size_t kept = t.data.size();
      if (t.type == 1 && t.name == "meta.features" && (pick / 8) % 4 != 0) {
        const std::string text = perturb_features(std::string(t.data.begin(), t.data.end()), pick / 32);
        t.data.assign(text.begin(), text.end());
      } else if (t.type == 1) {
        t.data.resize(kept + 64);
        t.data.resize(LLVMFuzzerMutate(t.data.data(), kept, kept + 64));
      } else if (kept != 0) {
        t.data.resize(LLVMFuzzerMutate(t.data.data(), kept, kept));
        t.data.resize(kept, 0);
      }
      if (t.type == 1) t.count = static_cast<std::uint32_t>(t.data.size());
      break;
    }
    case 5: {  // a table field: count, cols or type (the data stays as it was)
      static const std::uint32_t kCounts[] = {0, 1, 2, 3, 4, 0xFFFFFFFFu, 0x40000000u};
      const unsigned field = (pick / 8) % 3;
      if (field == 0) t.count = kCounts[(pick / 32) % 7] + (pick / 256) % 2 * t.count;
      if (field == 1) t.cols = kCounts[(pick / 32) % 7];
      if (field == 2) t.type = static_cast<std::uint8_t>((pick / 32) % 6);
      break;  // the data is written as it was, whatever the new fields say
    }
    case 6: {  // a spec field: inputs, layers, task, a hidden size, outputs, window, output mode, format
      static const std::uint16_t kSizes[] = {0, 1, 2, 3, 4, 5, 7, 12, 48, 100, 1024, 4464, 65535};
      static const std::uint8_t kAt[] = {20, 22, 23, 24, 26, 32, 34, 36, 37};
      const std::uint8_t at = kAt[(pick / 8) % 9];
      const std::uint16_t value = kSizes[(pick / 128) % 13];
      if (at == 20 || at == 24 || at == 26 || at == 32 || at == 34) {
        detail::put_u16(header.data() + at, value);
      } else {
        header[at] = static_cast<std::uint8_t>(value);
      }
      break;
    }
    default: {  // a tensor dropped or repeated
      const std::size_t k = pick % tensors.size();
      if ((pick / 8) % 2 == 0 && tensors.size() > 1) {
        tensors.erase(tensors.begin() + static_cast<std::ptrdiff_t>(k));
      } else if (tensors.size() < kMaxModelTensors) {
        tensors.push_back(tensors[k]);
      }
      break;
    }
  }
  const std::size_t written = write_tensors(header, tensors, data, max_size);
  return written != 0 ? written : LLVMFuzzerMutate(data, size, max_size);
}

}  // namespace edgelstm::fuzz
