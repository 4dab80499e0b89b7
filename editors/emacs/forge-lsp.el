;;; forge-lsp.el --- Eglot support for the forge-lsp Python code graph  -*- lexical-binding: t; -*-

;; Copyright (C) The forge-lsp authors

;; Author: The forge-lsp authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "29.1") (eglot "1.16"))
;; Keywords: languages, tools, python
;; SPDX-License-Identifier: MIT

;; This file is not part of GNU Emacs.

;;; Commentary:

;; forge-lsp is a code-intelligence language server for Python that
;; keeps a persistent, always-fresh code graph in SQLite.  This package
;; connects it to Eglot and adds commands for its custom requests:
;;
;; - Loading it registers `forge-lsp serve' in `eglot-server-programs'
;;   for the modes in `forge-lsp-major-modes' (`python-mode' and
;;   `python-ts-mode'), so M-x eglot (or `eglot-ensure' in a mode hook)
;;   starts it.  References, definitions, call hierarchy, document and
;;   workspace symbols then work through the usual Eglot and xref
;;   commands (M-?, M-., ...).
;;
;; - `forge-lsp-impact' lists everything that transitively depends on the
;;   symbol at point (on its name or anywhere inside its definition;
;;   outside every definition, the whole file), its "blast radius", in
;;   an xref buffer: one line per dependent, with the chain of uses that
;;   reaches it, e.g.
;;
;;       Order.total <-call- with_vat <-call- test_with_vat  [test]
;;
;;   The echo area and the buffer's header line sum it up: "Order.total:
;;   6 dependents (6 exact, 0 probable) in 3 files, tests reached: 3",
;;   how the walk was cut off if it was, and first, when the buffer has
;;   unsaved edits of the symbol, what kind of change they are
;;   ("body-only change: 3 tests reach it").  There is no depth limit
;;   unless `forge-lsp-impact-depth' sets one; a numeric prefix argument
;;   is the depth of one walk, a plain C-u asks for it.
;;   `forge-lsp-impact-file' does the same for every symbol of the
;;   current file.
;;
;; - `forge-lsp-status' shows the state of the index (with a prefix
;;   argument, in a buffer with one section per workspace folder);
;;   `forge-lsp-reindex' rebuilds the graph from scratch.
;;
;; - To keep another server (pyright, basedpyright, pylsp) as Eglot's
;;   server of Python buffers, set `forge-lsp-major-modes' to nil before
;;   loading forge-lsp: the commands above then ask a forge-lsp server of
;;   their own, per project, beside Eglot (the companion; see
;;   `forge-lsp-companion-connection' and `forge-lsp-companion-shutdown').
;;
;; `forge-lsp-command-map' holds these commands; bind it to a prefix,
;; e.g. (keymap-set eglot-mode-map "C-c f" 'forge-lsp-command-map).
;;
;; The server command is `forge-lsp-server-command' and its
;; initializationOptions are `forge-lsp-initialization-options' (both
;; are read when a server starts, so they may be set per project in
;; .dir-locals.el).  See editors/emacs/README.md for a setup.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'project)
(require 'subr-x)
(require 'xref)

(defgroup forge-lsp nil
  "Eglot support for the forge-lsp Python code-intelligence server."
  :group 'eglot
  :prefix "forge-lsp-")

(defcustom forge-lsp-major-modes '(python-mode python-ts-mode)
  "Major modes whose buffers Eglot manages with forge-lsp.
Loading forge-lsp puts an entry for these modes at the front of
`eglot-server-programs'; setting this option through Customize or
`setopt' updates that entry.  Eglot runs one server per major mode, so
to keep another server (pyright, basedpyright, pylsp) as the Eglot
server of Python buffers, set this to nil before loading forge-lsp:
the forge-lsp commands then ask a forge-lsp server of their own,
started on first use, beside Eglot (see `forge-lsp-companion-connection')."
  :type '(repeat (symbol :tag "Major mode"))
  :initialize #'custom-initialize-default
  :set #'forge-lsp--set-major-modes)

(defcustom forge-lsp-server-command '("forge-lsp" "serve")
  "Command that starts the forge-lsp language server on stdio.
A list of strings: the program, then its arguments.  For a server
installed in a virtual environment use its absolute path, e.g.
\(\"~/venvs/forge/bin/forge-lsp\" \"serve\"), or run the module:
\(\"python3\" \"-m\" \"forge_lsp\" \"serve\").  Read each time a server
starts."
  :type '(repeat string))

(defcustom forge-lsp-initialization-options nil
  "The LSP initializationOptions sent to forge-lsp, as a plist.
Keys are the option names of forge-lsp's documentation, as keywords:
for example

  (:exclude [\"migrations/**\"] :includeProbable t :debounceMs 50)

Use vectors for JSON arrays and `:json-false' for JSON false.  nil
sends an empty object, which leaves every option at its default (or
at the project's [tool.forge-lsp] settings).  Read when a server
starts, in the buffer that starts it."
  :type '(plist :key-type (symbol :tag "Option (a keyword)")
                :value-type (sexp :tag "Value")))

(defcustom forge-lsp-position-encodings '("utf-16")
  "Position encodings offered to forge-lsp, the preferred one first.
The server supports utf-8, utf-16 and utf-32 and takes the first one
offered.  The default, utf-16, is the one every part of Eglot
converts correctly: Eglot (1.17 at least) reads the positions of
files that no buffer visits with its global default, the utf-16
conversion, whatever was negotiated, so with utf-32 a reference
after an emoji in such a file lands one character early.  nil
offers what Eglot offers by itself (utf-32, utf-8, utf-16).  Read
when a server starts."
  :type '(choice (const :tag "What Eglot offers" nil)
                 (repeat (choice (const "utf-16") (const "utf-32")
                                 (const "utf-8")))))

(defcustom forge-lsp-impact-depth nil
  "Default depth of `forge-lsp-impact': edges followed from the symbol.
nil (the default): no limit, the walk goes on until nothing new
depends on the symbol (under `forge-lsp-impact-max-nodes').  The
server takes 1 to 10000."
  :type '(choice (const :tag "No limit" nil)
                 (integer :tag "Depth (1-10000)")))

(defcustom forge-lsp-impact-max-nodes nil
  "Most dependents `forge-lsp-impact' asks for.
nil: the server's default (10000).  The server takes 1 to 1000000."
  :type '(choice (const :tag "The server's default (10000)" nil)
                 (integer :tag "Dependents (1-1000000)")))

(defcustom forge-lsp-impact-include-probable 'default
  "Whether `forge-lsp-impact' follows probable uses too.
A probable use is a call on a receiver of unknown type.  `default'
follows the server's includeProbable option."
  :type '(choice (const :tag "As the server's includeProbable option" default)
                 (const :tag "Exact uses only" nil)
                 (const :tag "Exact and probable uses" t)))

(defcustom forge-lsp-impact-location 'symbol
  "Where each line of `forge-lsp-impact' leads.
`symbol': to the name of the dependent symbol (its definition).
`use': to the place where the dependent uses the previous symbol of
its chain (the last edge's location)."
  :type '(choice (const :tag "The dependent's definition" symbol)
                 (const :tag "The use inside the dependent" use)))

(defcustom forge-lsp-request-timeout 30
  "Seconds to wait for `forge/impact' and `forge/status' answers."
  :type 'number)

(defcustom forge-lsp-reindex-timeout 900
  "Seconds to wait for `forge/reindex' to finish before giving up."
  :type 'number)

(defface forge-lsp-impact-dependent '((t :inherit font-lock-function-name-face))
  "Face of the dependent symbol in `forge-lsp-impact' lines.")

(defface forge-lsp-impact-edge '((t :inherit shadow))
  "Face of the edges (<-call-, <-construct-, ...) in `forge-lsp-impact' lines.")

(defface forge-lsp-impact-test '((t :inherit success))
  "Face of the [test] tag in `forge-lsp-impact' lines.")

(defface forge-lsp-impact-probable '((t :inherit warning))
  "Face of the [probable] tag in `forge-lsp-impact' lines.")


;;;; Connecting

(defclass forge-lsp-server (eglot-lsp-server) ()
  :documentation "An Eglot connection to a forge-lsp server.")

(cl-defmethod eglot-client-capabilities ((_server forge-lsp-server))
  "Offer `forge-lsp-position-encodings' (if any) instead of Eglot's list."
  (let ((capabilities (copy-sequence (cl-call-next-method))))
    (when forge-lsp-position-encodings
      (setq capabilities
            (plist-put capabilities :general
                       (plist-put (copy-sequence (plist-get capabilities :general))
                                  :positionEncodings
                                  (vconcat forge-lsp-position-encodings)))))
    capabilities))

(cl-defmethod eglot-initialization-options ((_server forge-lsp-server))
  "Send `forge-lsp-initialization-options' as initializationOptions."
  (or forge-lsp-initialization-options (make-hash-table :size 1)))

;;;###autoload
(defun forge-lsp-server-contact (&optional _interactive _project)
  "The Eglot contact for forge-lsp: `forge-lsp-server-command'.
This is the function that `eglot-server-programs' holds for the modes
of `forge-lsp-major-modes'."
  (unless (and (consp forge-lsp-server-command)
               (cl-every #'stringp forge-lsp-server-command))
    (user-error "`forge-lsp-server-command' must be a list of strings, not %S"
                forge-lsp-server-command))
  (let ((program (car forge-lsp-server-command)))
    (cons 'forge-lsp-server
          (cons (if (string-prefix-p "~" program) (expand-file-name program) program)
                (cdr forge-lsp-server-command)))))

(defun forge-lsp--set-major-modes (symbol value)
  "Set SYMBOL (`forge-lsp-major-modes') to VALUE and register forge-lsp."
  (set-default-toplevel-value symbol value)
  (forge-lsp--register-server))

(defun forge-lsp--register-server ()
  "Put forge-lsp first in `eglot-server-programs' for its major modes."
  (setq eglot-server-programs
        (cl-remove #'forge-lsp-server-contact eglot-server-programs
                   :key #'cdr-safe))
  (when forge-lsp-major-modes
    (push (cons forge-lsp-major-modes #'forge-lsp-server-contact)
          eglot-server-programs)))

;;;###autoload
(with-eval-after-load 'eglot
  (let ((modes (if (boundp 'forge-lsp-major-modes)
                   forge-lsp-major-modes
                 '(python-mode python-ts-mode))))
    (unless (or (null modes)
                (rassq 'forge-lsp-server-contact
                       (bound-and-true-p eglot-server-programs)))
      (push (cons modes 'forge-lsp-server-contact) eglot-server-programs))))

(forge-lsp--register-server)

(defun forge-lsp-unload-function ()
  "Remove forge-lsp from `eglot-server-programs' on `unload-feature'."
  (setq eglot-server-programs
        (cl-remove #'forge-lsp-server-contact eglot-server-programs
                   :key #'cdr-safe))
  nil)


;;;; Beside another server: a connection of forge-lsp's own

;; Eglot gives each major mode one server.  When that is another one
;; (`forge-lsp-major-modes' nil), the forge-lsp commands ask a
;; forge-lsp server of their own per project: the companion.  Before
;; each request it is sent the text of every buffer it has been asked
;; about whose text changed since (didOpen, then full-text didChange),
;; so it answers about the buffers, unsaved edits included, as the
;; Eglot server would; killing a buffer closes it (didClose).

(defclass forge-lsp-companion (jsonrpc-process-connection)
  ((root :initarg :root :reader forge-lsp--companion-root)
   (encoding :initform "utf-16" :accessor forge-lsp--companion-encoding))
  :documentation "A forge-lsp server that forge-lsp.el runs beside Eglot.")

(defvar forge-lsp--companions nil
  "Alist of (PROJECT-ROOT . `forge-lsp-companion') of this session.")

(defvar-local forge-lsp--companion-synced nil
  "(CONNECTION VERSION TICK) of this buffer's text sent to a companion.")

(defun forge-lsp--uses-companion-p ()
  "Whether the forge-lsp commands in this buffer ask the companion.
They do when Eglot does not run forge-lsp for this major mode."
  (not (and forge-lsp-major-modes
            (apply #'provided-mode-derived-p major-mode forge-lsp-major-modes)
            (or (not (eglot-current-server))
                (cl-typep (eglot-current-server) 'forge-lsp-server)))))

(defun forge-lsp--project-root ()
  "The root of the current buffer's project, else its directory."
  (let ((project (project-current)))
    (file-name-as-directory
     (expand-file-name (if project (project-root project) default-directory)))))

(defun forge-lsp--companion-notification (_conn method params)
  "Show the companion's `window/showMessage' METHOD PARAMS; drop the rest."
  (when (eq method 'window/showMessage)
    (message "%s" (plist-get params :message))))

(defun forge-lsp--companion-request (_conn _method _params)
  "Answer the companion's requests to the client: it is offered none."
  nil)

(defun forge-lsp--companion-initialize (conn root)
  "Initialize the companion CONN for the project at ROOT."
  (let* ((uri (eglot-path-to-uri (directory-file-name root)))
         (result
          (jsonrpc-request
           conn :initialize
           (list :processId (emacs-pid)
                 :clientInfo (list :name "forge-lsp.el companion")
                 :rootUri uri
                 :workspaceFolders
                 (vector (list :uri uri :name (file-name-nondirectory
                                               (directory-file-name root))))
                 :capabilities
                 (list :general (list :positionEncodings
                                      (vconcat (or forge-lsp-position-encodings
                                                   '("utf-16"))))
                       :window (list :workDoneProgress :json-false))
                 :initializationOptions (or forge-lsp-initialization-options
                                            (make-hash-table :size 1)))
           :timeout forge-lsp-request-timeout)))
    (setf (forge-lsp--companion-encoding conn)
          (or (plist-get (plist-get result :capabilities) :positionEncoding)
              "utf-16"))
    (jsonrpc-notify conn :initialized (make-hash-table :size 1))))

(defun forge-lsp--start-companion (root)
  "Start and initialize a forge-lsp server for the project at ROOT.
A server that cannot be started or initialized is a `user-error' that
says why, and leaves no process behind."
  (let* ((contact (cdr (forge-lsp-server-contact)))
         (name (format "forge-lsp companion %s"
                       (file-name-nondirectory (directory-file-name root))))
         (default-directory root)
         (process
          (condition-case err
              (make-process
               :name name :command contact :connection-type 'pipe
               :coding 'utf-8-emacs-unix :noquery t
               :stderr (get-buffer-create (format " *%s stderr*" name)))
            (error (user-error "forge-lsp: cannot start %s: %s"
                               (string-join contact " ") (error-message-string err)))))
         (conn (make-instance
                'forge-lsp-companion
                :name name :process process :root root
                :notification-dispatcher #'forge-lsp--companion-notification
                :request-dispatcher #'forge-lsp--companion-request)))
    (condition-case err
        (forge-lsp--companion-initialize conn root)
      (error
       (ignore-errors (jsonrpc-shutdown conn t))
       (user-error "forge-lsp: %s did not start: %s" (string-join contact " ")
                   (if (eq (car err) 'jsonrpc-error)
                       (forge-lsp--error-message err)
                     (error-message-string err)))))
    conn))

(defun forge-lsp-companion-connection ()
  "The forge-lsp server of the current project that runs beside Eglot.
Started on first use and kept for the session; see
`forge-lsp-major-modes'."
  (let* ((root (forge-lsp--project-root))
         (conn (alist-get root forge-lsp--companions nil nil #'equal)))
    (unless (and conn (jsonrpc-running-p conn))
      (setq conn (forge-lsp--start-companion root))
      (setf (alist-get root forge-lsp--companions nil nil #'equal) conn))
    conn))

(defun forge-lsp--buffer-text ()
  "The whole text of the current buffer, without properties."
  (save-restriction
    (widen)
    (buffer-substring-no-properties (point-min) (point-max))))

(defun forge-lsp--companion-sync-buffer (conn)
  "Send CONN the current buffer's text if it has not seen it."
  (let ((synced forge-lsp--companion-synced)
        (tick (buffer-chars-modified-tick))
        (document (forge-lsp--text-document)))
    (cond
     ((not (eq (car synced) conn))
      (jsonrpc-notify conn :textDocument/didOpen
                      (list :textDocument
                            (append document (list :languageId "python" :version 1
                                                   :text (forge-lsp--buffer-text)))))
      (add-hook 'kill-buffer-hook #'forge-lsp--companion-close nil t)
      (setq forge-lsp--companion-synced (list conn 1 tick)))
     ((/= tick (nth 2 synced))
      (let ((version (1+ (nth 1 synced))))
        (jsonrpc-notify conn :textDocument/didChange
                        (list :textDocument (append document (list :version version))
                              :contentChanges
                              (vector (list :text (forge-lsp--buffer-text)))))
        (setq forge-lsp--companion-synced (list conn version tick)))))))

(defun forge-lsp--companion-sync (conn)
  "Send CONN the current buffer, and every buffer it has seen that changed."
  (forge-lsp--companion-sync-buffer conn)
  (dolist (buffer (buffer-list))
    (with-current-buffer buffer
      (when (and (eq (car forge-lsp--companion-synced) conn)
                 (/= (buffer-chars-modified-tick) (nth 2 forge-lsp--companion-synced)))
        (forge-lsp--companion-sync-buffer conn)))))

(defun forge-lsp--companion-close ()
  "Tell the companion that the current buffer is closed.
Its file on disk is then what the companion reads again."
  (let ((conn (car forge-lsp--companion-synced)))
    (when (and conn (jsonrpc-running-p conn) buffer-file-name)
      (ignore-errors
        (jsonrpc-notify conn :textDocument/didClose
                        (list :textDocument (forge-lsp--text-document)))))
    (setq forge-lsp--companion-synced nil)))

(defun forge-lsp-companion-shutdown (&optional all)
  "Shut the current project's companion down (with ALL, every one).
The server is asked to shut down, which commits what it has indexed,
and then to exit."
  (interactive "P")
  (let ((root (forge-lsp--project-root)))
    (dolist (entry forge-lsp--companions)
      (when (or all (equal (car entry) root))
        (let ((conn (cdr entry)))
          (when (jsonrpc-running-p conn)
            (ignore-errors (jsonrpc-request conn :shutdown nil :timeout 30))
            (ignore-errors (jsonrpc-notify conn :exit nil))
            (with-timeout (5 (jsonrpc-shutdown conn t))
              (while (jsonrpc-running-p conn) (accept-process-output nil 0.05)))))
        (setq forge-lsp--companions (delq entry forge-lsp--companions))))))

(defun forge-lsp--shutdown-companions ()
  "Shut every companion down when Emacs exits."
  (forge-lsp-companion-shutdown t))

(add-hook 'kill-emacs-hook #'forge-lsp--shutdown-companions)


;;;; Requests and positions

(defun forge-lsp--server ()
  "The forge-lsp server for the current buffer, or a `user-error'.
That is the buffer's Eglot server when Eglot runs forge-lsp for this
major mode, else the project's companion
(`forge-lsp-companion-connection')."
  (cond
   ((forge-lsp--uses-companion-p) (forge-lsp-companion-connection))
   ((eglot-current-server))
   (t (user-error "No Eglot connection in this buffer: start one with M-x eglot"))))

(defun forge-lsp--error-message (err)
  "The server's message in the `jsonrpc-error' ERR, else its text."
  (or (cl-loop for x in (cdr-safe err)
               when (and (consp x) (eq (car x) 'jsonrpc-error-message))
               return (cdr x))
      (error-message-string err)))

(defun forge-lsp--request (server method params)
  "Send METHOD with PARAMS to SERVER, wait for and return the answer.
The current buffer's pending changes are sent first (as Eglot does for
its own requests), so that the server answers about what is in the
buffer.  A failure is a `user-error' that carries the server's message."
  (cond ((cl-typep server 'forge-lsp-companion)
         (when buffer-file-name (forge-lsp--companion-sync server)))
        ((eglot-managed-p)
         (eglot--signal-textDocument/didChange)))
  (condition-case err
      (jsonrpc-request server method params :timeout forge-lsp-request-timeout)
    (jsonrpc-error
     (user-error "forge-lsp: %s failed: %s" method
                 (forge-lsp--error-message err)))))

(defun forge-lsp--encoding ()
  "The position encoding negotiated with the current buffer's server."
  (if (forge-lsp--uses-companion-p)
      (forge-lsp--companion-encoding (forge-lsp-companion-connection))
    (or (eglot-server-capable :positionEncoding) "utf-16")))

(defun forge-lsp--linepos-function (encoding)
  "Return the function counting ENCODING's code units before point."
  (pcase encoding
    ("utf-8" #'eglot-utf-8-linepos)
    ("utf-32" #'eglot-utf-32-linepos)
    (_ #'eglot-utf-16-linepos)))

(defun forge-lsp--move-function (encoding)
  "Return the function to move to a line's Nth code unit of ENCODING."
  (pcase encoding
    ("utf-8" #'eglot-move-to-utf-8-linepos)
    ("utf-32" #'eglot-move-to-utf-32-linepos)
    (_ #'eglot-move-to-utf-16-linepos)))

(defun forge-lsp--lsp-position (pos encoding)
  "The LSP position of buffer position POS in ENCODING."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char pos)
      (list :line (1- (line-number-at-pos pos t))
            :character (funcall (forge-lsp--linepos-function encoding))))))

(defun forge-lsp--text-document ()
  "The LSP TextDocumentIdentifier of the current buffer."
  (let ((file (or buffer-file-name
                  (and (buffer-base-buffer)
                       (buffer-file-name (buffer-base-buffer))))))
    (unless file
      (user-error "forge-lsp: this buffer does not visit a file"))
    (list :uri (eglot-path-to-uri file))))

(defun forge-lsp--location-line-column (position move)
  "Line (1-based) and column (0-based, in characters) of LSP POSITION.
POSITION is read in the current buffer with MOVE, a function of
`forge-lsp--move-function'.  Returns (LINE . COLUMN)."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char (point-min))
      (forward-line (plist-get position :line))
      (funcall move (plist-get position :character))
      (cons (line-number-at-pos nil t) (- (point) (pos-bol))))))

(defun forge-lsp--make-location (uri range move buffers)
  "An `xref-file-location' for LSP URI and RANGE.
Character offsets are converted with MOVE against the text of the
file: the buffer visiting it if there is one (it is what the server
sees for an open document), else the file on disk, read into a
temporary buffer that is kept in the hash table BUFFERS by URI."
  (let* ((file (eglot-uri-to-path uri))
         (start (plist-get range :start))
         (buffer (or (find-buffer-visiting file)
                     (gethash uri buffers)
                     (and (file-readable-p file)
                          (puthash uri
                                   (with-current-buffer
                                       (generate-new-buffer " *forge-lsp-temp*" t)
                                     (insert-file-contents file)
                                     (current-buffer))
                                   buffers))))
         (line-column
          (if buffer
              (with-current-buffer buffer
                (forge-lsp--location-line-column start move))
            ;; Unreadable file: the best guess without its text.
            (cons (1+ (plist-get start :line)) (plist-get start :character)))))
    (xref-make-file-location file (car line-column) (cdr line-column))))


;;;; Impact

(defun forge-lsp--json-true-p (value)
  "Whether the decoded JSON VALUE is true."
  (and value (not (eq value :json-false))))

(defun forge-lsp--impact-names (result)
  "A hash table from symbol id to qualified name for the impact RESULT."
  (let ((names (make-hash-table :test #'eql)))
    (cl-flet ((add (item)
                (when item
                  (puthash (plist-get item :id)
                           (or (plist-get item :qualname) (plist-get item :name))
                           names))))
      (add (plist-get result :root))
      (mapc #'add (plist-get result :roots))
      (mapc (lambda (file)
              (mapc (lambda (dependent) (add (plist-get dependent :symbol)))
                    (plist-get file :dependents)))
            (plist-get result :files)))
    names))

(defun forge-lsp--impact-summary (dependent names)
  "Return the xref summary of DEPENDENT, naming symbols with NAMES.
The summary is the chain of uses from the target to DEPENDENT, for
example \"Order.total <-call- with_vat <-call- discounted\"."
  (let* ((symbol (plist-get dependent :symbol))
         (path (append (plist-get dependent :chain) nil))
         (name (lambda (id)
                 (or (gethash id names) (format "#%s" id))))
         (parts
          (if (null path)
              (list (propertize (or (plist-get symbol :qualname) "?")
                                'face 'forge-lsp-impact-dependent))
            (cons (funcall name (plist-get (car path) :to))
                  (cl-loop
                   for (edge . more) on path
                   for from = (funcall name (plist-get edge :from))
                   collect (propertize (format " <-%s- " (plist-get edge :kind))
                                       'face 'forge-lsp-impact-edge)
                   collect (if more from
                             (propertize from 'face 'forge-lsp-impact-dependent))))))
         (tags (delq nil
                     (list (and (forge-lsp--json-true-p (plist-get dependent :isTest))
                                (propertize "[test]" 'face 'forge-lsp-impact-test))
                           (and (equal (plist-get dependent :confidence) "probable")
                                (propertize "[probable]"
                                            'face 'forge-lsp-impact-probable))))))
    (concat (apply #'concat parts)
            (if tags (concat "  " (string-join tags " ")) ""))))

(defun forge-lsp-impact-result-xrefs (result encoding)
  "Xref items for the `forge/impact' RESULT, in the server's order.
RESULT is the decoded answer (a plist), ENCODING its position
encoding.  Each item leads to a dependent (see
`forge-lsp-impact-location') and its summary is the chain of uses
from the target to it."
  (let ((names (forge-lsp--impact-names result))
        (move (forge-lsp--move-function encoding))
        (buffers (make-hash-table :test #'equal))
        (xrefs '()))
    (unwind-protect
        (dolist (file (append (plist-get result :files) nil))
          (dolist (dependent (append (plist-get file :dependents) nil))
            (let* ((symbol (plist-get dependent :symbol))
                   (path (plist-get dependent :chain))
                   (use (and (eq forge-lsp-impact-location 'use)
                             (> (length path) 0)
                             (plist-get (aref path (1- (length path))) :location)))
                   (uri (if use (plist-get use :uri) (plist-get symbol :uri)))
                   (range (if use (plist-get use :range)
                            (or (plist-get symbol :selectionRange)
                                (plist-get symbol :range)))))
              (push (xref-make (forge-lsp--impact-summary dependent names)
                               (forge-lsp--make-location uri range move buffers))
                    xrefs))))
      (maphash (lambda (_uri buffer) (kill-buffer buffer)) buffers))
    (nreverse xrefs)))

(defun forge-lsp-impact-request (&optional depth whole-file)
  "Ask the server for the impact of the symbol at point; return the answer.
DEPTH defaults to `forge-lsp-impact-depth'; `unlimited' asks for no
limit whatever that says.  With WHOLE-FILE, ask for every symbol of the
current file instead.  The answer is the decoded `forge/impact'
result, a plist."
  (let* ((server (forge-lsp--server))
         (encoding (forge-lsp--encoding))
         (depth (if (eq depth 'unlimited) nil (or depth forge-lsp-impact-depth)))
         (params (append
                  (list :textDocument (forge-lsp--text-document))
                  (unless whole-file
                    (list :position (forge-lsp--lsp-position (point) encoding)))
                  (when depth (list :depth depth))
                  (when forge-lsp-impact-max-nodes
                    (list :maxNodes forge-lsp-impact-max-nodes))
                  (unless (eq forge-lsp-impact-include-probable 'default)
                    (list :includeProbable
                          (if forge-lsp-impact-include-probable t :json-false))))))
    (forge-lsp--request server :forge/impact params)))

(defun forge-lsp--plural (n word)
  "N and WORD, with an s unless N is 1."
  (format "%d %s%s" n word (if (eql n 1) "" "s")))

(defun forge-lsp-impact-cut-off (result)
  "Why the walk of the impact RESULT stopped early, or nil.
For example \"cut off at depth 2: 5 nodes not expanded\"."
  (let ((by (plist-get result :truncatedBy))
        (left (concat (forge-lsp--plural (or (plist-get result :unexpanded) 0) "node")
                      " not expanded")))
    (cond ((equal by "depth")
           (format "cut off at depth %s: %s" (plist-get result :depth) left))
          ((or (equal by "nodes") (forge-lsp--json-true-p (plist-get result :truncated)))
           (concat "cut off at the node limit: " left)))))

(defun forge-lsp--impact-describe (result)
  "A one-line description of the impact RESULT for the echo area.
What the buffer's unsaved edits do to the symbol comes first, then the
dependents (exact, probable), the files and the tests reached, and
how the walk was cut off if it was."
  (let* ((root (plist-get result :root))
         (target (or (and root (or (plist-get root :qualname) (plist-get root :name)))
                     "this file"))
         (count (or (plist-get result :count) 0))
         (probable (or (plist-get result :probableCount) 0))
         (exact (or (plist-get result :exactCount) (- count probable)))
         (files (length (plist-get result :files)))
         (tests (length (plist-get result :tests)))
         (pending (plist-get (plist-get result :pendingChange) :summary))
         (cut-off (forge-lsp-impact-cut-off result))
         (depth (plist-get result :depth)))
    (concat
     (format "forge-lsp: %s: " target)
     (if pending (format "unsaved edit, %s; " pending) "")
     (format "%s (%d exact, %d probable) in %s, tests reached: %d"
             (forge-lsp--plural count "dependent") exact probable
             (forge-lsp--plural files "file") tests)
     (cond (cut-off (concat ", " cut-off))
           ((numberp depth) (format " (depth <= %d)" depth))
           (t ""))
     (if (forge-lsp--json-true-p (plist-get result :partial))
         " [partial: the index is not up to date yet]"
       ""))))

(defun forge-lsp--read-depth (arg)
  "The impact depth for the prefix argument ARG.
nil for `forge-lsp-impact-depth'; `unlimited' for no limit."
  (cond ((null arg) nil)
        ((consp arg)
         (let ((answer (read-string
                        (format-prompt "Impact depth (1-10000, empty for no limit)" nil))))
           (if (string-empty-p (string-trim answer))
               'unlimited
             (let ((depth (string-to-number answer)))
               (unless (and (integerp depth) (<= 1 depth 10000))
                 (user-error "forge-lsp: the depth is a number from 1 to 10000"))
               depth))))
        (t (prefix-numeric-value arg))))

(defun forge-lsp--impact-header (result)
  "Show the summary of RESULT in the header line of the *xref* buffer."
  (let ((xref-buffer (get-buffer xref-buffer-name)))
    (when xref-buffer
      (with-current-buffer xref-buffer
        (setq header-line-format
              (string-replace "%" "%%" (string-remove-prefix
                                        "forge-lsp: " (forge-lsp--impact-describe result))))))))

(defun forge-lsp--show-impact (depth whole-file)
  "Show the impact of point (or, with WHOLE-FILE, the file) to DEPTH."
  (let* ((buffer (current-buffer))
         (marker (point-marker))
         (encoding (forge-lsp--encoding))
         (result (forge-lsp-impact-request depth whole-file))
         (xrefs (forge-lsp-impact-result-xrefs result encoding)))
    (cond
     ((and (not whole-file) (null (plist-get result :root)))
      (message "forge-lsp: no symbol at point: this file is not indexed%s"
               (if (forge-lsp--json-true-p (plist-get result :partial))
                   " (yet: the index is not ready)"
                 ""))
      nil)
     ((null xrefs)
      (message "%s" (forge-lsp--impact-describe result))
      nil)
     (t
      (let ((fetched xrefs))
        (xref-show-xrefs
         (lambda ()
           ;; The first call shows what was just asked; later calls
           ;; (`g' in the xref buffer) ask again.
           (if fetched
               (prog1 fetched (setq fetched nil))
             (unless (buffer-live-p buffer)
               (user-error "forge-lsp: the buffer of this impact was killed"))
             (with-current-buffer buffer
               (save-excursion
                 (goto-char marker)
                 (let ((again (forge-lsp-impact-request depth whole-file)))
                   (message "%s" (forge-lsp--impact-describe again))
                   (forge-lsp--impact-header again)
                   (forge-lsp-impact-result-xrefs again (forge-lsp--encoding)))))))
         nil))
      (forge-lsp--impact-header result)
      (message "%s" (forge-lsp--impact-describe result))
      xrefs))))

;;;###autoload
(defun forge-lsp-impact (&optional depth)
  "List what transitively depends on the symbol at point, in an xref buffer.
The symbol is the one named at point, else the innermost definition
around point; outside every definition, it is the whole file.  Each
line is a dependent (a function, method, class or variable), with the
chain of uses from the symbol to it; tests are tagged [test].  The echo
area and the header line say how many (exact, probable), the tests
reached and how the walk was cut off, and first what the buffer's
unsaved edits do to the symbol, if anything.
DEPTH is the number of edges followed (default
`forge-lsp-impact-depth', nil: no limit; `unlimited': no limit
whatever that says): a numeric prefix argument gives it, a plain
\\[universal-argument] asks for it.  `g' in the xref buffer asks
again.  Returns the xref items shown (nil when there are none)."
  (interactive (list (forge-lsp--read-depth current-prefix-arg)))
  (forge-lsp--show-impact depth nil))

;;;###autoload
(defun forge-lsp-impact-file (&optional depth)
  "List what transitively depends on any symbol of the current file.
Like `forge-lsp-impact' (which see, also for DEPTH) for the whole file."
  (interactive (list (forge-lsp--read-depth current-prefix-arg)))
  (forge-lsp--show-impact depth t))


;;;; Status and reindex

(defun forge-lsp--percent (rate)
  "RATE (a fraction, or nil) as a percentage string."
  (if (numberp rate) (format "%.1f%%" (* 100.0 rate)) "n/a"))

(defun forge-lsp-format-status (status)
  "A one-line summary of the `forge/status' answer STATUS."
  (let* ((live (plist-get status :live))
         (cache (plist-get status :cache)))
    (format (concat "forge-lsp %s: %s, %s files, %s symbols, %s references, "
                    "pending %s files + %s updates, cache hit rate %s, %s")
            (or (plist-get status :version) "")
            (or (plist-get status :state) "?")
            (or (plist-get status :files) 0)
            (or (plist-get status :symbols) 0)
            (or (plist-get status :references) 0)
            (or (plist-get status :pendingFiles) 0)
            (or (plist-get live :pendingUpdates) 0)
            (forge-lsp--percent (plist-get cache :hitRate))
            (or (plist-get status :positionEncoding) "utf-16"))))

(defun forge-lsp-status-request ()
  "Ask the current buffer's server for `forge/status'; return the answer."
  (forge-lsp--request (forge-lsp--server) :forge/status (make-hash-table :size 1)))

(defun forge-lsp--insert-field (label value)
  "Insert a LABEL: VALUE line, when VALUE is not nil."
  (when (and value (not (eq value :json-false)))
    (insert (format "  %-18s %s\n" (concat label ":")
                    (if (stringp value) value (format "%s" value))))))

(defun forge-lsp--insert-status (status)
  "Insert a description of the `forge/status' answer STATUS."
  (insert (propertize (forge-lsp-format-status status) 'face 'bold) "\n")
  (dolist (folder (append (plist-get status :folders) nil))
    (let ((live (plist-get folder :live))
          (cache (plist-get folder :cache)))
      (insert "\n" (propertize (or (plist-get folder :root)
                                   (plist-get folder :uri) "?")
                               'face 'font-lock-keyword-face)
              "\n")
      (forge-lsp--insert-field "state" (plist-get folder :state))
      (forge-lsp--insert-field "database" (plist-get folder :db))
      (forge-lsp--insert-field
       "graph" (format "%s files, %s symbols, %s references, %s%% resolved"
                       (plist-get folder :files) (plist-get folder :symbols)
                       (plist-get folder :references)
                       (plist-get folder :resolvedPercent)))
      (forge-lsp--insert-field "files to parse" (plist-get folder :pendingFiles))
      (forge-lsp--insert-field "last index (s)" (plist-get folder :lastIndexSeconds))
      (forge-lsp--insert-field "error" (plist-get folder :error))
      (when live
        (forge-lsp--insert-field "pending updates" (plist-get live :pendingUpdates))
        (let ((paths (append (plist-get live :pendingPaths) nil)))
          (when paths
            (forge-lsp--insert-field "pending paths" (string-join paths ", "))))
        (forge-lsp--insert-field "open documents" (plist-get live :openDocuments))
        (forge-lsp--insert-field "file watcher" (plist-get live :watcher))
        (let ((latency (plist-get live :updateLatencyMs)))
          (when latency
            (forge-lsp--insert-field
             "update latency" (format "p50 %s ms, p95 %s ms (%s updates)"
                                      (plist-get latency :p50) (plist-get latency :p95)
                                      (plist-get latency :count))))))
      (when cache
        (forge-lsp--insert-field
         "cache" (format "%s/%s answers, hit rate %s"
                         (plist-get cache :size) (plist-get cache :maxSize)
                         (forge-lsp--percent (plist-get cache :hitRate))))))))

(defvar-local forge-lsp--status-source nil
  "The buffer whose server a `forge-lsp-status' buffer describes.")

(defun forge-lsp--revert-status (&rest _)
  "Ask again for the status shown in the current buffer."
  (let ((source forge-lsp--status-source))
    (unless (buffer-live-p source)
      (user-error "forge-lsp: the buffer of this status was killed"))
    (let ((status (with-current-buffer source (forge-lsp-status-request)))
          (inhibit-read-only t))
      (erase-buffer)
      (forge-lsp--insert-status status)
      (goto-char (point-min)))))

;;;###autoload
(defun forge-lsp-status (&optional details)
  "Show the state of forge-lsp's index for the current buffer's server.
In the echo area: state, files, symbols, references, pending work and
the query cache's hit rate.  With DETAILS (a prefix argument), in the
buffer *forge-lsp status* with one section per workspace folder (`g'
there refreshes it).  Returns the `forge/status' answer."
  (interactive "P")
  (let ((source (current-buffer))
        (status (forge-lsp-status-request)))
    (if (not details)
        (message "%s" (forge-lsp-format-status status))
      (with-current-buffer (get-buffer-create "*forge-lsp status*")
        (let ((inhibit-read-only t))
          (special-mode)
          (setq forge-lsp--status-source source)
          (setq-local revert-buffer-function #'forge-lsp--revert-status)
          (erase-buffer)
          (forge-lsp--insert-status status)
          (goto-char (point-min)))
        (display-buffer (current-buffer))))
    status))

(defun forge-lsp--folder-uri (server)
  "Return the URI of the SERVER folder holding the current file."
  (let ((file (and buffer-file-name (file-truename buffer-file-name)))
        (best nil))
    (mapc (lambda (folder)
            (let* ((uri (plist-get folder :uri))
                   (dir (file-name-as-directory (eglot-uri-to-path uri))))
              (when (and file (string-prefix-p dir file)
                         (or (null best) (> (length uri) (length best))))
                (setq best uri))))
          (if (cl-typep server 'forge-lsp-companion)
              (list (list :uri (eglot-path-to-uri
                                (directory-file-name (forge-lsp--companion-root server)))))
            (eglot-workspace-folders server)))
    (or best (user-error "forge-lsp: this file is in none of the server's folders"))))

;;;###autoload
(defun forge-lsp-reindex (&optional this-folder callback)
  "Rebuild forge-lsp's graph from scratch, in the background.
With THIS-FOLDER (a prefix argument), only the workspace folder of the
current file.  When done, show the new status; CALLBACK, if non-nil,
is then called with the `forge/status' answer (or with nil and the
error message on failure)."
  (interactive "P")
  (let* ((server (forge-lsp--server))
         (params (if this-folder
                     (list :folder (forge-lsp--folder-uri server))
                   (make-hash-table :size 1))))
    (jsonrpc-async-request
     server :forge/reindex params
     :timeout forge-lsp-reindex-timeout
     :success-fn (lambda (status)
                   (message "forge-lsp: reindexed. %s" (forge-lsp-format-status status))
                   (when callback (funcall callback status nil)))
     :error-fn (lambda (error)
                 (let ((text (or (plist-get error :message) (format "%S" error))))
                   (message "forge-lsp: reindex failed: %s" text)
                   (when callback (funcall callback nil text))))
     :timeout-fn (lambda ()
                   (message "forge-lsp: reindex timed out")
                   (when callback (funcall callback nil "timed out"))))
    (message "forge-lsp: reindexing %s..."
             (if this-folder (plist-get params :folder) "every folder"))
    nil))


;;;; Key bindings

;;;###autoload (autoload 'forge-lsp-command-map "forge-lsp" nil t 'keymap)
(defvar-keymap forge-lsp-command-map
  :doc "Keymap of forge-lsp commands; bind it to a prefix key."
  :prefix 'forge-lsp-command-map
  "i" #'forge-lsp-impact
  "f" #'forge-lsp-impact-file
  "s" #'forge-lsp-status
  "r" #'forge-lsp-reindex)

(provide 'forge-lsp)
;;; forge-lsp.el ends here
