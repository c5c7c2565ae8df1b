// A small pool of persistent worker threads: run(n, fn) calls fn(0..n-1) once
// each, spread over the workers and the calling thread, and returns when all
// are done. Which thread runs a task never changes a result: callers give each
// task state no other task touches. A task's exception reaches the caller of
// run() (the first, once every task has ended), never std::terminate.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hp {

class ThreadPool {
public:
    explicit ThreadPool(unsigned threads);  // threads - 1 workers; the caller is the last
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }
    void run(unsigned tasks, const std::function<void(unsigned)>& fn);

private:
    void work();
    bool take_and_run();  // runs one task of the current job; false when none is left

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(unsigned)>* job_ = nullptr;
    unsigned tasks_ = 0, next_ = 0, finished_ = 0;
    std::exception_ptr failed_;  // the first task's exception, rethrown by run()
    std::size_t generation_ = 0;
    bool stop_ = false;
};

}  // namespace hp
