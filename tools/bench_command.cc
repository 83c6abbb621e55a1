// `kiln bench MODEL --backend B`: prefill and greedy decode speed of a model
// on one device, rated against the device's own copy bandwidth.

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/copy_bandwidth.h"
#include "runtime/model_bench.h"
#include "runtime/profile.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/model_options.h"
#include "tools/output_file.h"
#include "tools/version.h"

namespace kiln::cli {
namespace {

using Json = nlohmann::ordered_json;

ArgParser bench_parser() {
  ArgParser args(
      "bench", "MODEL [--backend B] [--prompt-len N] [--gen N] [--reps N] [--json FILE] [--profile] [options]",
      "Measures a model's prefill and greedy decode speed on one device.\n\n"
      "Each rep starts a fresh context, prefills --prompt-len random token ids (in chunks\n"
      "of --prefill-chunk, as every session does), then runs --gen greedy decode steps:\n"
      "one backend call per token, the argmax on the device, 4 bytes read back. It\n"
      "reports the median and the [min, max] over the reps of prefill tok/s, decode\n"
      "tok/s and ms/token, and the effective bandwidth of decode: the bytes a token\n"
      "must read (every weight a dispatch reads, an untied embedding table only for its\n"
      "one row, plus K and V of every layer at the mean context of the decode steps)\n"
      "per second. The roofline is the device's kernel copy bandwidth, measured first\n"
      "by the same command: a step of 8 chained cast f32 -> f32 dispatches over\n"
      "--copy-mib MiB each (one row read back), (read + write bytes) / time of the\n"
      "fastest of 5 runs; the share of it is what decode reaches. Per-token counters\n"
      "(submits, dispatches, allocations, bytes read back) come from the device's\n"
      "counters over the decode steps.\n\n"
      "--json FILE writes every figure under plain names (decode_tok_s,\n"
      "prefill_tok_s, ms_per_token, effective_gb_s, copy_gb_s, roofline_share,\n"
      "per_token.submits, ...). --ctx defaults to --prompt-len + --gen.");
  add_model_argument(args);
  args.option("prompt-len", "", "N", "prompt tokens prefilled per rep", "512")
      .option("gen", "", "N", "greedy decode steps per rep", "128")
      .option("reps", "", "N", "repetitions, each in a fresh context", "5")
      .option("seed", "", "S", "seed of the random prompt ids", "0")
      .option("copy-mib", "", "N", "MiB the copy-bandwidth kernel copies", "256")
      .option("json", "", "FILE", "write the figures as JSON to FILE ('-': stdout)");
  add_session_options(args);
  return args;
}

absl::StatusOr<int64_t> positive(const ArgParser& args, const char* name) {
  absl::StatusOr<int64_t> value = args.get_int(name);
  if (!value.ok()) return value.status();
  if (*value < 1) return absl::InvalidArgumentError(absl::StrCat("--", name, " ", *value, " must be at least 1"));
  return *value;
}

absl::StatusOr<runtime::BenchOptions> bench_options(const ArgParser& args) {
  runtime::BenchOptions options;
  absl::StatusOr<int64_t> prompt = positive(args, "prompt-len"), gen = positive(args, "gen"),
                          reps = positive(args, "reps"), seed = args.get_int("seed");
  for (const absl::StatusOr<int64_t>* value : {&prompt, &gen, &reps, &seed}) {
    if (!value->ok()) return value->status();
  }
  options.prompt_len = *prompt;
  options.gen = *gen;
  options.reps = static_cast<int>(std::min<int64_t>(*reps, 1000));
  options.seed = static_cast<uint64_t>(*seed);
  return options;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

struct Report {
  std::string model, backend, device;
  runtime::CopyBandwidth copy;
  runtime::BenchResult bench;
  std::vector<runtime::KernelTime> profile;
};

double roofline_share(const Report& report, double gb_s) {
  return report.copy.gb_s() > 0 ? gb_s / report.copy.gb_s() : 0;
}

void print_spread(std::ostream& out, const char* label, const runtime::Spread& s, const char* unit, int decimals) {
  out << absl::StrFormat("  %-15s %10.*f %-9s [%.*f, %.*f]\n", label, decimals, s.median, unit, decimals, s.min,
                               decimals, s.max);
}

void print_report(const Report& r, std::ostream& out) {
  const runtime::BenchResult& b = r.bench;
  const runtime::DecodeTraffic& t = b.traffic;
  out << absl::StrFormat("kiln bench: %s on %s (%s)\n", r.model, r.backend, r.device);
  out << absl::StrFormat(
      "copy bandwidth: %.2f GB/s (a kernel copy: %d x cast f32 -> f32 of %d MiB per step, read + write bytes, "
      "best of %d)\n",
      r.copy.gb_s(), r.copy.copies, r.copy.bytes >> 20, r.copy.runs);
  out << absl::StrFormat("decode reads %.2f MB per token: weights %.2f MB + KV %.2f MB (%d B/position, "
                               "mean context %.1f); roofline %.1f tok/s\n",
                               t.bytes() / 1e6, static_cast<double>(t.weight_bytes) / 1e6, t.kv_bytes() / 1e6,
                               t.kv_bytes_per_position, t.mean_context, r.copy.gb_s() * 1e9 / t.bytes());
  out << absl::StrFormat("prompt %d tokens, %d generated, %d reps; median [min, max]:\n", b.options.prompt_len,
                               b.options.gen, b.options.reps);
  print_spread(out, "prefill", b.prefill_tok_s, "tok/s", 1);
  print_spread(out, "decode", b.decode_tok_s, "tok/s", 1);
  print_spread(out, "", b.ms_per_token, "ms/token", 3);
  print_spread(out, "effective", b.effective_gb_s, "GB/s", 2);
  const runtime::Spread share = {roofline_share(r, b.effective_gb_s.median), roofline_share(r, b.effective_gb_s.min),
                                 roofline_share(r, b.effective_gb_s.max)};
  out << absl::StrFormat("  %-15s %9.1f %% of the copy bandwidth [%.1f, %.1f]\n", "roofline share",
                               100 * share.median, 100 * share.min, 100 * share.max);
  out << absl::StrFormat("per decode token: %g steps, %g submits, %g dispatches, %g allocations, "
                               "%g bytes read back, %g bytes written\n",
                               b.steps, b.submits, b.dispatches, b.allocations, b.bytes_read_back, b.bytes_written);
}

void spread_json(const std::string& name, const runtime::Spread& s, Json& out) {
  out[name] = s.median;
  out[name + "_min"] = s.min;
  out[name + "_max"] = s.max;
}

Json report_json(const Report& r) {
  const runtime::BenchResult& b = r.bench;
  Json out = {{"model", r.model},       {"backend", r.backend},           {"device", r.device},
              {"date", utc_now()},      {"kiln_version", std::string(kVersion)}, {"kiln_git", std::string(kGitRevision)},
              {"prompt_len", b.options.prompt_len}, {"gen", b.options.gen}, {"reps", b.options.reps}};
  spread_json("prefill_tok_s", b.prefill_tok_s, out);
  spread_json("decode_tok_s", b.decode_tok_s, out);
  spread_json("ms_per_token", b.ms_per_token, out);
  spread_json("effective_gb_s", b.effective_gb_s, out);
  out["copy_gb_s"] = r.copy.gb_s();
  out["copy_bytes"] = r.copy.bytes;
  out["roofline_share"] = roofline_share(r, b.effective_gb_s.median);
  out["roofline_share_min"] = roofline_share(r, b.effective_gb_s.min);
  out["roofline_share_max"] = roofline_share(r, b.effective_gb_s.max);
  out["roofline_tok_s"] = r.copy.gb_s() * 1e9 / b.traffic.bytes();
  out["weight_bytes_per_token"] = b.traffic.weight_bytes;
  out["kv_bytes_per_token"] = b.traffic.kv_bytes();
  out["mean_context"] = b.traffic.mean_context;
  out["per_token"] = {{"steps", b.steps},
                      {"submits", b.submits},
                      {"dispatches", b.dispatches},
                      {"allocations", b.allocations},
                      {"bytes_read_back", b.bytes_read_back},
                      {"bytes_written", b.bytes_written}};
  Json reps = Json::array();
  for (const runtime::BenchRep& rep : b.reps) {
    reps.push_back({{"prefill_seconds", rep.prefill_seconds}, {"decode_seconds", rep.decode_seconds}});
  }
  out["rep_seconds"] = reps;
  if (!r.profile.empty()) {
    Json profile = Json::array();
    for (const runtime::KernelTime& k : r.profile) {
      profile.push_back({{"kernel", k.kernel}, {"variant", k.variant}, {"dispatches", k.dispatches},
                         {"ms", static_cast<double>(k.nanoseconds) / 1e6}});
    }
    out["profile"] = profile;
  }
  return out;
}

absl::StatusOr<runtime::CopyBandwidth> measure_copy(const ArgParser& args, const runtime::SessionOptions& options) {
  absl::StatusOr<int64_t> mib = positive(args, "copy-mib");
  if (!mib.ok()) return mib.status();
  backends::BackendOptions device = options.device;
  device.profile = false;
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(options.backend, device);
  if (!backend.ok()) return backend.status();
  return runtime::measure_copy_bandwidth(*backend, *mib << 20);
}

absl::Status run_bench(const ArgParser& args) {
  absl::StatusOr<std::string> model = model_argument(args);
  if (!model.ok()) return model.status();
  if (args.has("json")) {
    if (absl::Status s = check_output(args.get("json")); !s.ok()) return s;
  }
  absl::StatusOr<runtime::BenchOptions> bench = bench_options(args);
  if (!bench.ok()) return bench.status();
  absl::StatusOr<runtime::SessionOptions> options = session_options(args);
  if (!options.ok()) return options.status();
  if (!args.has("ctx")) options->programs.context = bench->prompt_len + bench->gen;
  runtime::SamplingOptions greedy;
  greedy.temperature = 0;
  options->sampling = greedy;

  Report report;
  report.model = *model;
  report.backend = options->backend;
  absl::StatusOr<runtime::CopyBandwidth> copy = measure_copy(args, *options);
  if (!copy.ok()) return copy.status();
  report.copy = *copy;
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::open(*model, *options);
  if (!session.ok()) return session.status();
  report.device = (*session)->backend().device_name();
  absl::StatusOr<runtime::BenchResult> result = runtime::run_model_bench(**session, *bench);
  if (!result.ok()) return result.status();
  report.bench = *std::move(result);
  if (args.has("profile")) {
    absl::StatusOr<std::vector<runtime::KernelTime>> profile = (*session)->profile();
    if (!profile.ok()) return profile.status();
    report.profile = *profile;
  }
  // With the JSON on stdout, the table goes to stderr.
  std::ostream& text = args.has("json") && args.get("json") == "-" ? std::cerr : std::cout;
  print_report(report, text);
  if (!report.profile.empty()) text << "\n" << runtime::profile_table(report.profile);
  if (!args.has("json")) return absl::OkStatus();
  return write_output(args.get("json"), report_json(report).dump(2));
}

}  // namespace

int bench_command(std::span<char*> argv) {
  ArgParser args = bench_parser();
  return command_main(args, argv, run_bench);
}

}  // namespace kiln::cli
