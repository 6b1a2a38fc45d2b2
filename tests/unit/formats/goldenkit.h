#pragma once
// Helpers shared by the format tests: reading golden files and comparing JSON / SSE semantically.
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace golden {

// Goldens live with their adapter: golden/<adapter>/<kind>/<pair>/, the adapter being the pair's
// side that is not the internal form (openai_to_anthropic and anthropic_to_openai are both in
// golden/anthropic/). `sub` is "<kind>/<pair>[/...]".
inline QString dir(const QString &sub)
{
    const QString pair = sub.section(QLatin1Char('/'), 1, 1);
    QString adapter = pair.section(QLatin1String("_to_"), 0, 0);
    if (adapter == QLatin1String("openai"))
        adapter = pair.section(QLatin1String("_to_"), 1, 1);
    return QStringLiteral(GH_GOLDEN_DIR "/") + adapter + QLatin1Char('/') + sub;
}

inline QByteArray read(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

// Case names (file base names before ".in.*") of a golden directory.
inline QStringList cases(const QString &sub, const QString &inSuffix)
{
    QStringList names;
    for (const QString &f : QDir(dir(sub)).entryList({QStringLiteral("*") + inSuffix}, QDir::Files, QDir::Name))
        names.append(f.left(f.size() - inSuffix.size()));
    return names;
}

inline QJsonValue parse(const QByteArray &text, bool *ok)
{
    QJsonParseError pe;
    // Wrap so scalars parse too.
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]", &pe);
    *ok = pe.error == QJsonParseError::NoError && doc.array().size() == 1;
    return *ok ? doc.array().at(0) : QJsonValue();
}

// `expected` may hold "<any>" (any value) and "<prefix:abc>" (a string starting with abc).
inline bool match(const QJsonValue &expected, const QJsonValue &actual, const QString &path, QString *why)
{
    if (expected.isString()) {
        const QString e = expected.toString();
        if (e == QLatin1String("<any>"))
            return !actual.isUndefined();
        if (e.startsWith(QLatin1String("<prefix:")) && e.endsWith(QLatin1Char('>'))) {
            if (actual.isString() && actual.toString().startsWith(e.mid(8, e.size() - 9))
                && actual.toString().size() > e.size() - 9)
                return true;
            *why = path
                + QStringLiteral(": expected a string starting with '%1', got %2")
                      .arg(e.mid(8, e.size() - 9),
                          QString::fromUtf8(QJsonDocument(QJsonArray{actual}).toJson(QJsonDocument::Compact)));
            return false;
        }
    }
    if (expected.type() != actual.type()) {
        *why = path
            + QStringLiteral(": expected %1, got %2")
                  .arg(QString::fromUtf8(QJsonDocument(QJsonArray{expected}).toJson(QJsonDocument::Compact)),
                      actual.isUndefined()
                          ? QStringLiteral("nothing")
                          : QString::fromUtf8(QJsonDocument(QJsonArray{actual}).toJson(QJsonDocument::Compact)));
        return false;
    }
    if (expected.isObject()) {
        const QJsonObject e = expected.toObject();
        const QJsonObject a = actual.toObject();
        for (auto it = e.begin(); it != e.end(); ++it) {
            if (!match(it.value(), a.value(it.key()), path + QLatin1Char('.') + it.key(), why))
                return false;
        }
        for (auto it = a.begin(); it != a.end(); ++it) {
            if (!e.contains(it.key())) {
                *why = path + QLatin1Char('.') + it.key() + QStringLiteral(": unexpected field");
                return false;
            }
        }
        return true;
    }
    if (expected.isArray()) {
        const QJsonArray e = expected.toArray();
        const QJsonArray a = actual.toArray();
        if (e.size() != a.size()) {
            *why = path + QStringLiteral(": expected %1 elements, got %2").arg(e.size()).arg(a.size());
            return false;
        }
        for (qsizetype i = 0; i < e.size(); ++i) {
            if (!match(e.at(i), a.at(i), path + QStringLiteral("[%1]").arg(i), why))
                return false;
        }
        return true;
    }
    if (expected != actual) {
        *why = path
            + QStringLiteral(": expected %1, got %2")
                  .arg(QString::fromUtf8(QJsonDocument(QJsonArray{expected}).toJson(QJsonDocument::Compact)),
                      QString::fromUtf8(QJsonDocument(QJsonArray{actual}).toJson(QJsonDocument::Compact)));
        return false;
    }
    return true;
}

inline bool matchJson(const QByteArray &expected, const QByteArray &actual, QString *why)
{
    bool ok = false;
    const QJsonValue e = parse(expected, &ok);
    if (!ok) {
        *why = QStringLiteral("the expected text is not JSON");
        return false;
    }
    const QJsonValue a = parse(actual, &ok);
    if (!ok) {
        *why = QStringLiteral("the output is not JSON: ") + QString::fromUtf8(actual.left(300));
        return false;
    }
    return match(e, a, QStringLiteral("$"), why);
}

struct SseEvent {
    QByteArray name;
    QByteArray data;
};

// Events of an SSE text. Comment lines (": ...") are collected into *comments.
inline QList<SseEvent> parseSse(QByteArray text, QStringList *comments = nullptr, bool *wellFormed = nullptr)
{
    text.replace("\r\n", "\n");
    if (wellFormed)
        *wellFormed = text.isEmpty() || text.endsWith("\n\n");
    QList<SseEvent> events;
    qsizetype pos = 0;
    while (pos < text.size()) {
        qsizetype end = text.indexOf("\n\n", pos);
        if (end < 0)
            end = text.size();
        SseEvent ev;
        bool any = false;
        for (const QByteArray &line : text.mid(pos, end - pos).split('\n')) {
            if (line.startsWith(':')) {
                if (comments)
                    comments->append(QString::fromUtf8(line.mid(1).trimmed()));
            } else if (line.startsWith("event:")) {
                ev.name = line.mid(6).trimmed();
                any = true;
            } else if (line.startsWith("data:")) {
                QByteArray d = line.mid(5);
                if (d.startsWith(' '))
                    d.remove(0, 1);
                ev.data = ev.data.isNull() ? d : ev.data + '\n' + d;
                any = true;
            }
        }
        if (any)
            events.append(ev);
        pos = end + 2;
    }
    return events;
}

inline bool matchSse(const QByteArray &expected, const QByteArray &actual, QString *why)
{
    bool wellFormed = false;
    const QList<SseEvent> e = parseSse(expected);
    const QList<SseEvent> a = parseSse(actual, nullptr, &wellFormed);
    if (!wellFormed) {
        *why = QStringLiteral("the output does not end with a blank line");
        return false;
    }
    for (qsizetype i = 0; i < qMin(e.size(), a.size()); ++i) {
        const QString where = QStringLiteral("event %1").arg(i);
        if (e.at(i).name != a.at(i).name) {
            *why = where
                + QStringLiteral(": expected event name '%1', got '%2'")
                      .arg(QString::fromUtf8(e.at(i).name), QString::fromUtf8(a.at(i).name));
            return false;
        }
        if (e.at(i).data == "[DONE]" || a.at(i).data == "[DONE]") {
            if (e.at(i).data != a.at(i).data) {
                *why = where
                    + QStringLiteral(": expected %1, got %2")
                          .arg(QString::fromUtf8(e.at(i).data), QString::fromUtf8(a.at(i).data));
                return false;
            }
            continue;
        }
        QString sub;
        if (!matchJson(e.at(i).data, a.at(i).data, &sub)) {
            *why = where + QStringLiteral(" (") + QString::fromUtf8(a.at(i).name) + QStringLiteral("): ") + sub;
            return false;
        }
    }
    if (e.size() != a.size()) {
        *why = QStringLiteral("expected %1 events, got %2; output:\n%3")
                   .arg(e.size())
                   .arg(a.size())
                   .arg(QString::fromUtf8(actual));
        return false;
    }
    return true;
}

} // namespace golden
