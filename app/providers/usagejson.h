#pragma once
// The usage parsers on an object of a document simdjson is already reading, for the request path:
// parsing the response once instead of re-parsing the usage object's text (providers/usage.h).
#include "providers/usage.h"
#include <simdjson.h>

namespace gh {

// parseOpenAIUsage() on a usage object read in place. Returns false on a malformed field, and `out`
// is then left as it was.
[[nodiscard]] bool parseOpenAIUsage(simdjson::ondemand::object object, Usage &out);

} // namespace gh
