#include "secretscan/secretredact.h"
#include <QHash>

namespace gh {

namespace {

// Backslashes immediately before `pos`.
qsizetype backslashesBefore(const QByteArray &s, qsizetype pos)
{
    qsizetype n = 0;
    while (pos - n - 1 >= 0 && s[pos - n - 1] == '\\')
        ++n;
    return n;
}

// Whether an escape starts at `pos` (a backslash not itself escaped).
bool escapeAt(const QByteArray &s, qsizetype pos)
{
    return pos >= 0 && pos < s.size() && s[pos] == '\\' && backslashesBefore(s, pos) % 2 == 0;
}

// The length of the escape starting at `pos` ("\n": 2, "\u00e9": 6).
qsizetype escapeLength(const QByteArray &s, qsizetype pos)
{
    return pos + 1 < s.size() && s[pos + 1] == 'u' ? 6 : 2;
}

} // namespace

bool redactSecrets(QByteArray *body, const QList<SecretFinding> &findings, QString *ruleId)
{
    const QByteArray &in = *body;
    struct Span {
        qsizetype begin, end;
        const SecretFinding *f;
    };
    QList<Span> spans;
    spans.reserve(findings.size());
    for (const SecretFinding &f : findings) {
        qsizetype begin = qBound<qsizetype>(0, f.offset, in.size());
        qsizetype end = qBound<qsizetype>(begin, f.offset + f.length, in.size());
        // An escape that starts up to 5 bytes before the span and reaches into it: widen to its start.
        for (qsizetype p = qMax<qsizetype>(0, begin - 5); p < begin; ++p) {
            if (escapeAt(in, p) && p + escapeLength(in, p) > begin) {
                begin = p;
                break;
            }
        }
        // An escape that starts inside the span and reaches past its end: widen to its end.
        for (qsizetype p = qMax(begin, end - 5); p < end; ++p) {
            if (escapeAt(in, p)) {
                const qsizetype e = qMin(in.size(), p + escapeLength(in, p));
                if (e > end)
                    end = e;
                p += escapeLength(in, p) - 1;
            }
        }
        for (qsizetype p = begin; p < end; ++p) {
            if (in[p] == '"' && backslashesBefore(in, p) % 2 == 0) {
                *ruleId = f.ruleId;
                return false;
            }
        }
        if (!spans.isEmpty() && begin < spans.last().end)
            begin = spans.last().end; // widened into the previous span
        if (begin < end)
            spans.append({begin, end, &f});
    }
    QHash<QString, int> perRule;           // distinct secrets seen per rule
    QHash<QByteArray, QByteArray> placeholders; // rule + '\0' + secret -> placeholder (in memory only)
    QByteArray out;
    out.reserve(in.size());
    qsizetype at = 0;
    for (const Span &s : spans) {
        out.append(in.constData() + at, s.begin - at);
        const QByteArray secret = in.mid(s.begin, s.end - s.begin);
        const QByteArray key = s.f->ruleId.toUtf8() + '\0' + secret;
        auto it = placeholders.constFind(key);
        if (it == placeholders.cend()) {
            const int n = ++perRule[s.f->ruleId];
            it = placeholders.insert(key, "[REDACTED:" + s.f->ruleId.toUtf8() + '#' + QByteArray::number(n) + ']');
        }
        out.append(*it);
        at = s.end;
    }
    out.append(in.constData() + at, in.size() - at);
    *body = std::move(out);
    return true;
}

} // namespace gh
