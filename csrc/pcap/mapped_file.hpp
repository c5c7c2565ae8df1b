// A capture file mapped read-only into memory. The reader walks it in place
// (no read() copies); the page cache holds what is touched, so a file larger
// than RAM streams through with bounded memory (MADV_SEQUENTIAL lets the
// kernel read ahead and drop pages behind). The reader populates the page
// tables a chunk ahead of where it reads, in one call per chunk. Frames handed to Python view this
// mapping, so it is shared: it lives until its last view is gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hp::pcap {

class MappedFile {
public:
    explicit MappedFile(const std::string& path);  // throws std::system_error naming the path
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }

    // Maps the page-cache pages of [from, from + n) in one call (MADV_POPULATE_READ) rather than
    // one fault per 4 KiB page as the reader touches them; a hint, so errors are ignored.
    void populate(std::size_t from, std::size_t n) const;

private:
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace hp::pcap
