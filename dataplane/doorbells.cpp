#include "dataplane/doorbells.hpp"

#include <string>

namespace dpdock::dataplane {

Result<std::unique_ptr<Doorbells>> Doorbells::create(unsigned workers) {
    using R = Result<std::unique_ptr<Doorbells>>;
    std::unique_ptr<Doorbells> bells(new Doorbells());
    bells->bells_ = std::make_unique<sync::Doorbell[]>(workers);
    for (unsigned i = 0; i < workers; ++i) {
        if (auto st = bells->bells_[i].open(); !st) return R::error("worker " + std::to_string(i) + ": " + st.message());
    }
    return bells;
}

}  // namespace dpdock::dataplane
