import QtQuick
import Gatehouse

// What Main.qml expects of a page (the root of every ui/<feature>/XxxPage.qml): it is given the
// window's backend, hands it to its models (`KeysModel { backend: page.backend }`), and asks the
// window for another page or a toast through its signals. A page may also offer actions by name
// (function runAction(action: string), for openPage("keys/create")).
Item {
    required property Backend backend

    signal openPage(string name)
    signal notify(string message, bool isError)
}
