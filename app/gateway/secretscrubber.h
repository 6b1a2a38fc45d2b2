#pragma once
#include <QByteArray>
#include <QList>
#include <QString>

namespace gh {

struct RegistrySnapshot;

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
    [[nodiscard]] QByteArray scrubbed(QByteArray text) const;
    [[nodiscard]] QString scrubbed(const QString &text) const;

private:
    QList<QByteArray> m_secrets; // longest first, so that "Bearer KEY" goes before KEY
};

} // namespace gh
