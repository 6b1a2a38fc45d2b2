#pragma once
#include <QByteArray>
#include <QString>

namespace gh {

// Gatehouse keys are stored only as SHA-256 hashes of the secret. Generated secrets are
// "gk-" followed by 43 characters of base64url (32 random bytes from the system CSPRNG).
[[nodiscard]] QByteArray hashSecret(QStringView secret);
[[nodiscard]] QByteArray hashSecret(QByteArrayView secretUtf8);
[[nodiscard]] QString generateSecret();
[[nodiscard]] QString secretHint(const QString &secret); // "…" + last 4 characters

} // namespace gh
