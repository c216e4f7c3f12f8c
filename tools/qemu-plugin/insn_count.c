/*
 * insn_count: a QEMU TCG plugin that counts the guest instructions executed between two marker
 * instructions, exactly (QEMU models no pipeline: these are instructions, not cycles).
 *
 * Markers (no-ops the guest places around a measured region, see bench/mcu/markers.h):
 *   Thumb:  mov r10, r10 (0x46d2) begins a region, mov r11, r11 (0x46db) ends it
 *   RISC-V: addi x0, x0, 1 (0x00100013) begins, addi x0, x0, 2 (0x00200013) ends
 *   Xtensa: or a10, a10, a10 (bytes a0 aa 20) begins, or a11, a11, a11 (b0 bb 20) ends
 * At each end marker the plugin prints "insn_count <n> <instructions>" (n counts regions from 0)
 * through qemu_plugin_outs; run QEMU with `-plugin libinsn_count.so -d plugin`. The count covers
 * the instructions after the begin marker up to and including the end marker; the guest measures
 * an empty region to subtract that constant.
 *
 * Debian's QEMU 7.2 exports the plugin API (version 1) but ships no qemu-plugin.h, so the few
 * declarations used are repeated here from that API.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
/* API v1's qemu_info_t begins with the target's name ("arm", "riscv32", ...); only that is read. */
typedef struct qemu_info_t {
  const char *target_name;
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;      /* every guest instruction, counted inline */
static uint64_t region_start;  /* value of `executed` at the begin marker */
static unsigned region_index;
/* Markers are matched for the guest's ISA only: 0x46d2 is mov r10, r10 in Thumb but an ordinary
 * compressed load (c.lwsp a3, 20(sp)) on RISC-V, where matching it would restart a region. */
enum isa { ISA_THUMB, ISA_RISCV, ISA_XTENSA };
static enum isa guest_isa;

enum marker { MARK_NONE, MARK_BEGIN, MARK_END };

static enum marker marker_of(const struct qemu_plugin_insn *insn) {
  const size_t size = qemu_plugin_insn_size(insn);
  const uint8_t *bytes = qemu_plugin_insn_data(insn);
  if (size == 2 && guest_isa == ISA_THUMB) {
    uint16_t half;
    memcpy(&half, bytes, 2);
    return half == 0x46d2 ? MARK_BEGIN : half == 0x46db ? MARK_END : MARK_NONE;
  }
  if (size == 4 && guest_isa == ISA_RISCV) {
    uint32_t word;
    memcpy(&word, bytes, 4);
    return word == 0x00100013u ? MARK_BEGIN : word == 0x00200013u ? MARK_END : MARK_NONE;
  }
  if (size == 3 && guest_isa == ISA_XTENSA) {
    static const uint8_t kBegin[3] = {0xa0, 0xaa, 0x20}, kEnd[3] = {0xb0, 0xbb, 0x20};
    return memcmp(bytes, kBegin, 3) == 0 ? MARK_BEGIN : memcmp(bytes, kEnd, 3) == 0 ? MARK_END : MARK_NONE;
  }
  return MARK_NONE;
}

static void on_begin(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  (void)userdata;
  region_start = executed;
}

static void on_end(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  (void)userdata;
  char line[64];
  snprintf(line, sizeof line, "insn_count %u %" PRIu64 "\n", region_index++, executed - region_start);
  qemu_plugin_outs(line);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t count = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < count; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    switch (marker_of(insn)) {
      case MARK_BEGIN:
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
        break;
      case MARK_END:
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        break;
      case MARK_NONE:
        break;
    }
  }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
  const char *target = info != NULL && info->target_name != NULL ? info->target_name : "";
  guest_isa = strncmp(target, "riscv", 5) == 0 ? ISA_RISCV : strncmp(target, "xtensa", 6) == 0 ? ISA_XTENSA : ISA_THUMB;
  (void)argc;
  (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  return 0;
}
