// The request journal's reader (what start-up replays after a crash): any bytes, a damaged or
// foreign file included, give whole records or none, and every record read is written back the same.
#include "fuzzcommon.h"
#include "store/requestjournal.h"

void fuzz::one(const QByteArray &input)
{
    const gh::RequestJournal::ReadResult read = gh::RequestJournal::decodeAll(input);
    QByteArray again;
    for (const gh::RequestRecord &r : read.records) {
        fuzz::check(!r.id.isEmpty(), "a record read has an id");
        again += gh::RequestJournal::encode(r);
    }
    const gh::RequestJournal::ReadResult reread = gh::RequestJournal::decodeAll(again);
    fuzz::check(!reread.tornTail, "records written back read whole");
    fuzz::check(reread.records == read.records, "records written back read the same");
}
