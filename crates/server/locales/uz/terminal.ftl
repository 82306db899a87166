# What the customer sees on the courier's terminal, in Uzbek (Latin). The
# courier's own screens are in the console's languages (English, Russian).
term-next = Keyingi
term-back = Orqaga
term-skip = O'tkazib yuborish
term-refuse = Yo'q, rahmat
term-step = { $total } ta savoldan { $n }-savol
term-nps-low = Aslo yo'q
term-nps-high = Albatta
term-yes = Ha
term-no = Yo'q
term-other = Boshqa
term-photo-take = Suratga olish
term-photo-retake = Qayta suratga olish
term-photo-failed = Suratni o'qib bo'lmadi; qayta urinib ko'ring.
term-voice-record = Yozib olish
term-voice-stop = To'xtatish
term-voice-unsupported = Bu qurilma ovoz yozib ololmaydi.
term-voice-recorded = Yozib olindi: { $seconds } s
term-review-heading = Rahmat! Boshqalarga aytib berasizmi?
term-review-text = Qisqa sharh bizga juda yordam beradi.
term-done = Tayyor
term-thanks-heading = Rahmat!
term-thanks-text = Iltimos, qurilmani kuryerga qaytaring.
term-refused-heading = Baribir rahmat
term-text-placeholder = Shu yerga yozing
