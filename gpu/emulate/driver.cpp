// driver.cpp: runs one recorded kernel launch of a ThreadSanitizer-built kernel library.
//
// ThreadSanitizer's runtime cannot be loaded into a running Python, so the emulator writes the
// launch to a file and this program replays it: `driver LIB SCRIPT RESULT`. SCRIPT holds the
// kernel name, the launch configuration, the buffers and the arguments (a buffer index or the
// raw bytes of a scalar); RESULT receives every buffer after the launch.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

struct EmuLaunch {
  unsigned grid[3];
  unsigned block[3];
  unsigned long long shared_bytes;
  unsigned long long seed;
};

template <class T>
static T take(std::ifstream& in) {
  T v{};
  in.read(reinterpret_cast<char*>(&v), sizeof(T));
  return v;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: driver LIB SCRIPT RESULT\n");
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::string name(take<uint32_t>(in), '\0');
  in.read(name.data(), (std::streamsize)name.size());
  EmuLaunch cfg = take<EmuLaunch>(in);
  uint32_t nbuffers = take<uint32_t>(in);
  std::vector<std::vector<unsigned char>> buffers(nbuffers);
  for (auto& b : buffers) {
    b.resize(take<uint64_t>(in) + 16);
    in.read(reinterpret_cast<char*>(b.data()), (std::streamsize)(b.size() - 16));
  }
  uint32_t nargs = take<uint32_t>(in);
  std::vector<std::vector<unsigned char>> scalars(nargs);
  std::vector<void*> pointers(nargs);
  std::vector<void*> args(nargs);
  for (uint32_t i = 0; i < nargs; ++i) {
    uint8_t kind = take<uint8_t>(in);
    if (kind == 0) {  // a pointer to buffer `index`
      uint32_t index = take<uint32_t>(in);
      pointers[i] = buffers.at(index).data();
      args[i] = &pointers[i];
    } else if (kind == 1) {  // a null pointer
      pointers[i] = nullptr;
      args[i] = &pointers[i];
    } else {  // a scalar's bytes
      scalars[i].resize(take<uint32_t>(in));
      in.read(reinterpret_cast<char*>(scalars[i].data()), (std::streamsize)scalars[i].size());
      args[i] = scalars[i].data();
    }
  }
  if (!in) {
    std::fprintf(stderr, "driver: truncated launch script %s\n", argv[2]);
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    std::fprintf(stderr, "driver: %s\n", dlerror());
    return 2;
  }
  auto launch = reinterpret_cast<int (*)(const EmuLaunch*, void**)>(dlsym(lib, ("emu_launch_" + name).c_str()));
  auto last_error = reinterpret_cast<const char* (*)()>(dlsym(lib, "emu_last_error"));
  if (!launch || !last_error) {
    std::fprintf(stderr, "driver: %s has no kernel %s\n", argv[1], name.c_str());
    return 2;
  }
  if (launch(&cfg, args.data()) != 0) {
    std::fprintf(stderr, "driver: kernel error: %s\n", last_error());
    return 3;
  }
  std::ofstream out(argv[3], std::ios::binary);
  for (auto& b : buffers) out.write(reinterpret_cast<const char*>(b.data()), (std::streamsize)(b.size() - 16));
  return out ? 0 : 2;
}
