pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// A short message at the bottom of the window ("Copied", "Exported 1,204 rows").
Popup {
    id: toast

    property string message: ""
    property bool error: false

    function show(text: string, isError: bool) {
        toast.message = text;
        toast.error = isError;
        toast.open();
        timer.restart();
    }

    x: (parent ? parent.width - width : 0) / 2
    y: parent ? parent.height - height - Theme.space6 : 0
    padding: Theme.space3
    leftPadding: Theme.space4
    rightPadding: Theme.space4
    closePolicy: Popup.NoAutoClose
    focus: false

    enter: Transition {
        NumberAnimation { property: "opacity"; from: 0; to: 1; duration: Theme.animationNormal }
    }
    exit: Transition {
        NumberAnimation { property: "opacity"; from: 1; to: 0; duration: Theme.animationNormal }
    }

    background: Rectangle {
        radius: Theme.radius
        color: Theme.dark ? "#e7e9ed" : "#1c1f26"
    }

    contentItem: RowLayout {
        spacing: Theme.space2
        Icon {
            iconName: toast.error ? "alert" : "check"
            color: toast.error ? Theme.danger : (Theme.dark ? "#16a06a" : "#3ccf8e")
        }
        Label {
            text: toast.message
            font.pixelSize: Theme.fontBody
            color: Theme.dark ? "#171a20" : "#f2f3f5"
        }
    }

    Timer {
        id: timer
        interval: 2600
        onTriggered: toast.close()
    }
}
