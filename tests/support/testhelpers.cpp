#include "testhelpers.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>

namespace gh::test {

namespace {

bool writeDocument(const QString &path, const QJsonDocument &doc, QString *error)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath())) {
        if (error)
            *error = QStringLiteral("cannot create %1").arg(info.absolutePath());
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(doc.toJson(QJsonDocument::Indented)) < 0 || !file.commit()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace

bool writeJsonFile(const QString &path, const QJsonObject &json, QString *error)
{
    return writeDocument(path, QJsonDocument(json), error);
}

bool writeJsonFile(const QString &path, const QJsonArray &json, QString *error)
{
    return writeDocument(path, QJsonDocument(json), error);
}

QString binaryFromEnv(const char *variable, QString *error)
{
    const QString path = qEnvironmentVariable(variable);
    if (path.isEmpty()) {
        if (error)
            *error = QStringLiteral("environment variable %1 is not set").arg(QString::fromLatin1(variable));
        return {};
    }
    const QFileInfo info(path);
    if (!info.isFile() || !info.isExecutable()) {
        if (error)
            *error = QStringLiteral("%1=%2 is not an executable file").arg(QString::fromLatin1(variable), path);
        return {};
    }
    return info.absoluteFilePath();
}

QJsonObject chatRequest(const QString &model, const QString &prompt, bool stream, bool includeUsage)
{
    QJsonObject body{{QStringLiteral("model"), model},
                     {QStringLiteral("messages"),
                      QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                             {QStringLiteral("content"), prompt}}}}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    if (includeUsage)
        body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
    return body;
}

} // namespace gh::test
