// libuv helpers shared by the server, the client and the load generator:
// error text, a loop owner, and the cast from a handle back to its owner.
//
// Ownership rule (libuv docs, handle.rst): a handle's memory must stay valid
// until its close callback has run. Objects that embed a handle close it and
// free themselves (or are freed by their owner) only from that callback, and a
// loop is destroyed only after every handle on it has finished closing.
#pragma once

#include <uv.h>

#include <stdexcept>
#include <string>

namespace uvframe {

/// "EADDRINUSE (address already in use)" for a negative libuv status.
inline std::string uvErrorText(int status) {
  return std::string(uv_err_name(status)) + " (" + uv_strerror(status) + ")";
}

/// The object stored in handle->data.
template <class Owner, class Handle>
Owner* ownerOf(Handle* handle) {
  return static_cast<Owner*>(reinterpret_cast<uv_handle_t*>(handle)->data);
}

/// Owns a uv_loop_t. The destructor closes whatever handles are still open
/// (with no callback: their owners must outlive this object) and runs the
/// loop until uv_loop_close() stops answering UV_EBUSY.
class UvLoop {
 public:
  UvLoop() {
    int rc = uv_loop_init(&loop_);
    if (rc != 0) throw std::runtime_error("uv_loop_init: " + uvErrorText(rc));
  }
  ~UvLoop() {
    while (uv_loop_close(&loop_) == UV_EBUSY) {
      uv_walk(
          &loop_,
          [](uv_handle_t* h, void*) {
            if (!uv_is_closing(h)) uv_close(h, nullptr);
          },
          nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
  }
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

 private:
  uv_loop_t loop_;
};

}  // namespace uvframe
