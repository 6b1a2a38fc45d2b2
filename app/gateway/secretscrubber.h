#pragma once
#include <QByteArray>
#include <QList>
#include <QString>

namespace gh {

class RegistrySnapshot;

// Removes provider secrets from what a provider sends back (an error body that echoes the request's
// Authorization or x-api-key header, a message that quotes the key) before it is logged, stored or
// relayed to the client. Two passes:
//  - exact: every configured secret value (each provider's key, with and without "Bearer ");
//  - by shape: the value after "Bearer ", and the value of a field named like a credential
//    (authorization, x-api-key, x-goog-api-key, api-key, api_key, apikey) in a header echo
//    ("x-api-key: VALUE"), JSON ("x-api-key": "VALUE") or a query string (key=VALUE).
// Whatever is removed becomes "[REDACTED]".
class SecretScrubber
{
public:
    SecretScrubber() = default;
    // The keys of every provider of the snapshot.
    explicit SecretScrubber(const RegistrySnapshot &registry);
    void addSecret(const QByteArray &secret);

    // True when anything was replaced.
    bool scrub(QByteArray *text) const;
    // The exact pass only (for content, where a key-like shape may be legitimate text).
    bool scrubExact(QByteArray *text) const;
    // Whether any configured secret occurs in `text` (the fast test before a copy is made).
    [[nodiscard]] bool containsSecret(QByteArrayView text) const;
    // The exact pass, each secret replaced by as many '*' as it has bytes: for a body whose length
    // was already announced (Content-Length). True when anything was replaced.
    bool maskExact(QByteArray *text) const;
    // The byte length of the longest secret (0: none): a relay that masks part by part holds back
    // one byte less than this, so that a secret split across two parts is still found.
    [[nodiscard]] qsizetype longestSecret() const { return m_secrets.isEmpty() ? 0 : m_secrets.first().size(); }
    [[nodiscard]] QByteArray scrubbed(QByteArray text) const;
    [[nodiscard]] QString scrubbed(const QString &text) const;

private:
    QList<QByteArray> m_secrets; // longest first, so that "Bearer KEY" goes before KEY
};

} // namespace gh
