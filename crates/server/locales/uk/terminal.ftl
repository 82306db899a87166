# What the customer sees on the courier's terminal, in Ukrainian. The
# courier's own screens are in the console's languages (English, Russian).
term-next = Далі
term-back = Назад
term-skip = Пропустити
term-refuse = Ні, дякую
term-step = Питання { $n } з { $total }
term-nps-low = Точно ні
term-nps-high = Обов'язково
term-yes = Так
term-no = Ні
term-other = Інше
term-photo-take = Зробити фото
term-photo-retake = Перезняти
term-photo-failed = Фото не прочиталося; спробуйте ще раз.
term-voice-record = Записати
term-voice-stop = Стоп
term-voice-unsupported = Цей пристрій не вміє записувати звук.
term-voice-recorded = Записано: { $seconds } с
term-review-heading = Дякуємо! Розкажете іншим?
term-review-text = Короткий відгук нам дуже допоможе.
term-done = Готово
term-thanks-heading = Дякуємо!
term-thanks-text = Будь ласка, поверніть пристрій кур'єру.
term-refused-heading = Все одно дякуємо
term-text-placeholder = Напишіть тут
