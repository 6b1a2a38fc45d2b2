#include "store/requestrecord.h"

namespace gh {

const char *outcomeName(AttemptRecord::Outcome o)
{
    switch (o) {
    case AttemptRecord::Outcome::Ok:
        return "ok";
    case AttemptRecord::Outcome::Failed:
        return "failed";
    case AttemptRecord::Outcome::Skipped:
        return "skipped";
    }
    return "failed";
}

} // namespace gh
