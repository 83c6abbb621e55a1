// Ctrl-C on the real binary (tests/tools/interrupt_test.cc tests the
// handler's scope in-process): `kiln run` of the shipped model is started
// as a child with its stdout and stderr on pipes, SIGINT is sent once it
// has printed generated text, and it must stop generating, print the timing
// line and exit with kInterruptedExit.
//
// Synchronisation is the pipe, not a sleep: the signal goes when generated
// text has been read. The run asks for tokens until the context (512) is
// full and ignores EOS, so generation outlasts the signal by hundreds of
// tokens (about a second on the cpu plugin; the whole test takes 0.1 s).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/arg_parser.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kPrompt = "And";

// A child process with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      // The child must not inherit an ignored or blocked SIGINT (a test
      // runner started in the background has it ignored).
      std::signal(SIGINT, SIG_DFL);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

  // Reads both pipes until stdout holds more than `bytes` bytes or both
  // reach EOF, for at most `timeout`. Whether stdout got there.
  bool read_until(size_t bytes, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_text_.size() <= bytes && (out_ >= 0 || err_ >= 0)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(left.count())) < 0) return false;
      drain(fds[0], out_, out_text_);
      drain(fds[1], err_, err_text_);
    }
    return out_text_.size() > bytes;
  }

  // Reads both pipes to EOF and waits for the exit, for at most `timeout`;
  // the wait status, or -1 when the child outlived it.
  int finish(std::chrono::milliseconds timeout) {
    read_until(std::string::npos - 1, timeout);
    if (out_ >= 0 || err_ >= 0) return -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return status;
  }

 private:
  static void drain(const pollfd& polled, int& fd, std::string& text) {
    if (fd < 0 || polled.revents == 0) return;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else {
      ::close(fd);
      fd = -1;
    }
  }

  pid_t pid_ = -1;
  bool waited_ = false;
  int out_ = -1, err_ = -1;
  std::string out_text_, err_text_;
};

TEST(InterruptCliTest, CtrlCStopsGenerationPrintsTheTimingLineAndExits130) {
  static_assert(cli::kInterruptedExit == 128 + SIGINT);
  const auto started = std::chrono::steady_clock::now();
  Child kiln({KILN_BINARY_DIR "/tools/kiln", "run", KILN_SOURCE_DIR "/models/kjv-llama.gguf", "--backend", "cpu",
              "-p", std::string(kPrompt), "-n", "-1", "--ignore-eos", "--seed", "1"});
  ASSERT_TRUE(kiln.started());
  // The prompt is echoed with the first generated piece: more than the
  // prompt on stdout means generation is under way.
  ASSERT_TRUE(kiln.read_until(kPrompt.size(), std::chrono::seconds(20)))
      << "no generated text; stdout: " << kiln.out() << "\nstderr: " << kiln.err();
  ASSERT_EQ(::kill(kiln.pid(), SIGINT), 0);
  const int status = kiln.finish(std::chrono::seconds(20));
  ASSERT_NE(status, -1) << "kiln did not stop after SIGINT; stderr: " << kiln.err();
  ASSERT_TRUE(WIFEXITED(status)) << "kiln ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                 << "; stderr: " << kiln.err();
  EXPECT_EQ(WEXITSTATUS(status), cli::kInterruptedExit) << kiln.err();
  EXPECT_THAT(kiln.out(), ::testing::StartsWith(std::string(kPrompt)));
  EXPECT_THAT(kiln.err(), HasSubstr("stop: interrupted | seed 1"));
  EXPECT_THAT(kiln.err(), HasSubstr("kiln run: load "));
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "interrupted after " << kiln.out().size() << " bytes of text, " << seconds << " s\n";
}

}  // namespace
}  // namespace kiln
