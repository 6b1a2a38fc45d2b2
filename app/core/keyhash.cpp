#include "core/keyhash.h"
#include <QCryptographicHash>
#include <QRandomGenerator>

namespace gh {

QByteArray hashSecret(QByteArrayView secretUtf8)
{
    return QCryptographicHash::hash(secretUtf8, QCryptographicHash::Sha256);
}

QByteArray hashSecret(QStringView secret)
{
    return hashSecret(QByteArrayView(secret.toUtf8()));
}

QString generateSecret()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(bytes.data()),
                                         reinterpret_cast<quint32 *>(bytes.data() + bytes.size()));
    return QStringLiteral("gk-") + QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString secretHint(const QString &secret)
{
    return QStringLiteral("…") + secret.right(4);
}

} // namespace gh
