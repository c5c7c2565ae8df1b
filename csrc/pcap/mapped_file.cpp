// POSIX mmap of a whole file; an empty file maps to no memory at all.
#include "pcap/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace hp::pcap {

MappedFile::MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), path);
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        throw std::system_error(e, std::generic_category(), path);
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw std::system_error(EISDIR, std::generic_category(), path);
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            ::close(fd);
            throw std::system_error(e, std::generic_category(), path);
        }
        ::madvise(p, size_, MADV_SEQUENTIAL);
        data_ = static_cast<const std::uint8_t*>(p);
    }
    ::close(fd);
}

void MappedFile::populate(std::size_t from, std::size_t n) const {
#ifdef MADV_POPULATE_READ
    if (from >= size_) return;
    const std::size_t page = 4096, start = from & ~(page - 1);
    const std::size_t end = from + n < size_ ? from + n : size_;
    ::madvise(const_cast<std::uint8_t*>(data_) + start, end - start, MADV_POPULATE_READ);
#else
    (void)from, (void)n;
#endif
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

}  // namespace hp::pcap
