#include "gateway/secretscrubber.h"
#include "routing/registry.h"
#include <QRegularExpression>
#include <algorithm>
#include <string_view>

namespace gh {

static const QByteArray kRedacted = QByteArrayLiteral("[REDACTED]");
// Shorter values are not secrets anyone configures, and would redact ordinary words.
static constexpr qsizetype kMinSecret = 8;

// Whether `needle` occurs in `text`. std::string_view::find scans with memchr for the first byte:
// QByteArrayView::contains took about 5,000 instructions for one key over a 450-byte answer, and
// every answer is searched for every configured key.
static bool occurs(QByteArrayView text, const QByteArray &needle)
{
    return std::string_view(text.data(), size_t(text.size())).find(std::string_view(needle.constData(), size_t(needle.size())))
        != std::string_view::npos;
}

SecretScrubber::SecretScrubber(const RegistrySnapshot &registry)
{
    for (const auto &provider : registry.providers)
        if (provider)
            addSecret(provider->authValue);
}

void SecretScrubber::addSecret(const QByteArray &secret)
{
    QByteArray value = secret.trimmed();
    auto add = [this](const QByteArray &v) {
        if (v.size() >= kMinSecret && !m_secrets.contains(v))
            m_secrets.append(v);
    };
    add(value);
    if (value.size() > 7 && value.left(7).toLower() == "bearer ")
        add(value.mid(7).trimmed());
    std::sort(m_secrets.begin(), m_secrets.end(), [](const QByteArray &a, const QByteArray &b) { return a.size() > b.size(); });
}

bool SecretScrubber::scrubExact(QByteArray *text) const
{
    if (!text || text->isEmpty())
        return false;
    bool changed = false;
    for (const QByteArray &secret : m_secrets) {
        if (occurs(*text, secret)) {
            text->replace(secret, kRedacted);
            changed = true;
        }
    }
    return changed;
}

bool SecretScrubber::containsSecret(QByteArrayView text) const
{
    return std::any_of(m_secrets.begin(), m_secrets.end(), [text](const QByteArray &secret) { return occurs(text, secret); });
}

bool SecretScrubber::maskExact(QByteArray *text) const
{
    if (!text || text->isEmpty())
        return false;
    bool changed = false;
    for (const QByteArray &secret : m_secrets) {
        if (occurs(*text, secret)) {
            text->replace(secret, QByteArray(secret.size(), '*'));
            changed = true;
        }
    }
    return changed;
}

bool SecretScrubber::scrub(QByteArray *text) const
{
    if (!text || text->isEmpty())
        return false;
    bool changed = scrubExact(text);
    // By shape. Per thread: a QRegularExpression is reentrant, not shared across threads.
    thread_local const QRegularExpression bearer(QStringLiteral(R"((\bbearer\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=\-]{8,})"),
                                                 QRegularExpression::CaseInsensitiveOption);
    thread_local const QRegularExpression field(
        QStringLiteral(R"((\b(?:authorization|proxy-authorization|x-api-key|x-goog-api-key|api[-_]?key|access[-_]?token)\b["']?\s*[:=]\s*["']?)(?!\[REDACTED\])(?!bearer\s)[^\s"'&,;}\]]{8,})"),
        QRegularExpression::CaseInsensitiveOption);
    thread_local const QRegularExpression query(QStringLiteral(R"(([?&]key=)(?!\[REDACTED\])[A-Za-z0-9._~+/=\-]{8,})"));
    const auto hasCandidate = [](const QByteArray &t) {
        const QByteArray lower = t.toLower();
        return lower.contains("bearer") || lower.contains("key") || lower.contains("authorization") || lower.contains("token");
    };
    if (!hasCandidate(*text))
        return changed;
    QString s = QString::fromUtf8(*text);
    const QString before = s;
    for (const QRegularExpression *re : {&bearer, &field, &query})
        s.replace(*re, QStringLiteral("\\1[REDACTED]"));
    if (s != before) {
        *text = s.toUtf8();
        changed = true;
    }
    return changed;
}

QByteArray SecretScrubber::scrubbed(QByteArray text) const
{
    scrub(&text);
    return text;
}

QString SecretScrubber::scrubbed(const QString &text) const
{
    QByteArray bytes = text.toUtf8();
    return scrub(&bytes) ? QString::fromUtf8(bytes) : text;
}

} // namespace gh
