#include "runtime/thread_pool.hpp"

#include <utility>

namespace hp {

ThreadPool::ThreadPool(unsigned threads) {
    for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

bool ThreadPool::take_and_run() {
    unsigned task;
    const std::function<void(unsigned)>* job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!job_ || next_ >= tasks_) return false;
        task = next_++;
        job = job_;
    }
    std::exception_ptr failed;
    try {
        (*job)(task);
    } catch (...) {  // a worker must not end the process: the caller rethrows it
        failed = std::current_exception();
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (failed && !failed_) failed_ = failed;
        if (++finished_ == tasks_) done_.notify_all();
    }
    return true;
}

void ThreadPool::work() {
    std::size_t seen = 0;
    while (true) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
        }
        while (take_and_run()) {
        }
    }
}

void ThreadPool::run(unsigned tasks, const std::function<void(unsigned)>& fn) {
    if (tasks == 0) return;
    if (workers_.empty() || tasks == 1) {
        for (unsigned t = 0; t < tasks; ++t) fn(t);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &fn, tasks_ = tasks, next_ = 0, finished_ = 0, failed_ = nullptr;
        ++generation_;
    }
    wake_.notify_all();
    while (take_and_run()) {
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return finished_ == tasks_; });
    job_ = nullptr;
    if (failed_) std::rethrow_exception(std::exchange(failed_, nullptr));
}

}  // namespace hp
